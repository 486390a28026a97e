# userland.mk: the example tasks and the userland archive. Each userland/NAME.c is one
# program, built with `musl-gcc -static` (what anyone would use for a shoal task) into
# build/userland/bin/NAME; hello is also built as a static PIE (bin/hello-pie) so the
# loader's ET_DYN path runs. build/userland.cpio (cpio newc, the boot module) holds
# userland/root/ plus bin/ with the programs and a few deliberately broken files the
# loader must refuse (bin/bad-*). spawn-bench is for the Linux guest only (it forks),
# so it stays out of the archive: build/userland/linux/spawn-bench.
UL_CC := musl-gcc
UL_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -Wno-unused-result
UL_MUSL := /usr/lib/x86_64-linux-musl
UL_PROGS := hello sleep primes memhog crash echo-server threads conformance bench
UL_BIN := $(patsubst %,$(B)/userland/bin/%,$(UL_PROGS)) $(B)/userland/bin/hello-pie
UL_BAD := $(patsubst %,$(B)/userland/bin/%,bad-truncated bad-machine bad-dynamic bad-script)
UL_DEPS := userland/common.h mk/userland.mk

$(B)/userland/bin/%: userland/%.c $(UL_DEPS)
	@mkdir -p $(dir $@)
	@echo "  MUSLCC  $@"
	@$(UL_CC) $(UL_CFLAGS) -static -pthread -o $@ $<

$(B)/userland/linux/%: userland/%.c $(UL_DEPS)
	@mkdir -p $(dir $@)
	@echo "  MUSLCC  $@"
	@$(UL_CC) $(UL_CFLAGS) -static -o $@ $<

# musl-gcc's specs start every program with Scrt1.o and let -static-pie link libc.so;
# a static PIE needs rcrt1.o (it relocates itself) and libc.a, so name them ourselves.
$(B)/userland/bin/hello-pie: userland/hello.c $(UL_DEPS)
	@mkdir -p $(dir $@)
	@echo "  MUSLCC  $@ (static-pie)"
	@$(UL_CC) $(UL_CFLAGS) -fPIE -static-pie -nostartfiles -Wl,-static -Wl,--no-dynamic-linker \
		-o $@ $(UL_MUSL)/rcrt1.o $(UL_MUSL)/crti.o $$(gcc -print-file-name=crtbeginS.o) $< \
		$$(gcc -print-file-name=crtendS.o) $(UL_MUSL)/crtn.o

# The refused files: cut short, built for another machine (e_machine is the 16-bit
# field at offset 18; 183 is AArch64), dynamically linked, and not ELF at all.
$(B)/userland/bin/bad-truncated: $(B)/userland/bin/hello
	@head -c 512 $< > $@
$(B)/userland/bin/bad-machine: $(B)/userland/bin/hello
	@cp $< $@ && printf '\267\000' | dd of=$@ bs=1 seek=18 conv=notrunc status=none
$(B)/userland/bin/bad-dynamic: userland/hello.c $(UL_DEPS)
	@echo "  MUSLCC  $@ (dynamic)"
	@$(UL_CC) $(UL_CFLAGS) -o $@ $<
$(B)/userland/bin/bad-script: mk/userland.mk
	@printf '#!/bin/sh\necho not an ELF program\n' > $@

userland: $(UL_BIN) $(UL_BAD) $(B)/userland/linux/spawn-bench
# The bench's Linux side needs spawn-bench; it is small, so `make` builds it too.
all: $(B)/userland/linux/spawn-bench

# Staged fresh each time so nothing stale rides along; paths in the archive are
# relative (bin/hello), sorted, and the files' owner is root.
$(B)/userland.cpio: $(UL_BIN) $(UL_BAD) $(shell find userland/root) mk/userland.mk
	@rm -rf $(B)/userland-root && mkdir -p $(B)/userland-root/bin
	@cp -r userland/root/. $(B)/userland-root/
	@cp $(UL_BIN) $(UL_BAD) $(B)/userland-root/bin/
	@echo "  CPIO    $@"
	@cd $(B)/userland-root && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort | \
		cpio -o -H newc -R 0:0 --quiet > ../userland.cpio.tmp
	@mv $(B)/userland.cpio.tmp $@

clean: clean-userland
clean-userland:
	rm -rf $(B)/userland $(B)/userland-root $(B)/userland.cpio

.PHONY: userland clean-userland
