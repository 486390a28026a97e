# console.mk: host builds of the console core (net/console): fuzzer and shoalctl.
# The kernel compiles net/console/*.c through KSRC.
#   build/fuzz/fuzz_console  reader, parser and reply builder (tests/fuzz/fuzz_console.c)
#   build/shoalctl           the host CLI (userland/shoalctl.c, Debian's libmbedtls-dev)
# CONSOLE_HOST_BIN lists the host programs `make all` builds (hooked into `all` below,
# as mk/userland.mk does for spawn-bench).
B ?= build
CONSOLE_CORE := net/console/parse.c net/console/reader.c net/console/out.c
CONSOLE_HDRS := net/console/console.h net/console/port.h sched/cluster/cluster.h

$(B)/fuzz/fuzz_console: tests/fuzz/fuzz_console.c $(CONSOLE_CORE) tests/host/console_port.c \
		$(CONSOLE_HDRS)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(CONSOLE_CORE) tests/host/console_port.c

fuzz: $(B)/fuzz/fuzz_console

CONSOLE_HOST_BIN := $(B)/shoalctl
$(B)/shoalctl: userland/shoalctl.c kernel/hex.h mk/console.mk
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -I. -o $@ $< -lmbedtls -lmbedx509 -lmbedcrypto

all: $(CONSOLE_HOST_BIN)

clean: clean-console
clean-console:
	rm -f $(B)/shoalctl $(B)/fuzz/fuzz_console
.PHONY: clean-console
