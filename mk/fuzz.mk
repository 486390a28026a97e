# fuzz.mk: libFuzzer targets over the gossip code (clang's -fsanitize=fuzzer, with ASan
# and UBSan), and the seed generator; tests/fuzz/run.sh builds and runs them briefly.
#   build/fuzz/fuzz_gossip  the decoder and the envelope (wire.c, keyring.c)
#   build/fuzz/fuzz_core    datagrams and frames into a live core; built only once the
#                           core's sources (net/gossip/swim.c) exist
#   build/fuzz/seeds        writes the seed corpus (tests/fuzz/seeds.c)
#   build/fuzz/fuzz_elf     the task loader's ELF parser (kernel/elf.c)
B ?= build
FUZZ_CC := clang
FUZZ_CFLAGS := -std=gnu11 -g -O1 -I. -Wall -Wextra -Wno-unused-parameter \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_LIBS := -lmbedcrypto
FUZZ_CODEC := net/gossip/wire.c net/gossip/keyring.c
# The whole core: every net/gossip source, plus the host's port layer.
FUZZ_CORE := $(wildcard net/gossip/*.c) tests/host/gossip_port.c
FUZZ_BIN := $(B)/fuzz/fuzz_gossip $(B)/fuzz/fuzz_elf $(if $(wildcard net/gossip/swim.c),$(B)/fuzz/fuzz_core)

$(B)/fuzz/fuzz_gossip: tests/fuzz/fuzz_gossip.c $(FUZZ_CODEC) net/gossip/wire.h \
		net/gossip/keyring.h net/gossip/gossip.h
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_CODEC) $(FUZZ_LIBS)

$(B)/fuzz/fuzz_core: tests/fuzz/fuzz_core.c $(FUZZ_CORE) $(wildcard net/gossip/*.h)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_CORE) $(FUZZ_LIBS)

$(B)/fuzz/fuzz_elf: tests/fuzz/fuzz_elf.c kernel/elf.c kernel/elf.h
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< kernel/elf.c

$(B)/fuzz/seeds: tests/fuzz/seeds.c $(FUZZ_CODEC) net/gossip/wire.h net/gossip/keyring.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(CC) -std=gnu11 -O1 -I. -Wall -Wextra -o $@ $< $(FUZZ_CODEC) $(FUZZ_LIBS)

fuzz: $(FUZZ_BIN) $(B)/fuzz/seeds

clean: clean-fuzz
clean-fuzz:
	rm -rf $(B)/fuzz
.PHONY: fuzz clean-fuzz
