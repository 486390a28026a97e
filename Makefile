# shoal: one entry point. `make` builds the kernel; see README.md for the rest.
.SUFFIXES:
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules
.DEFAULT_GOAL := all

B := build
TP := $(B)/third_party
DEPS_STAMP := $(B)/.deps-ok

CC := gcc
LD := ld
GCC_INC := $(shell $(CC) -print-file-name=include)

ARCH_CFLAGS := -mcmodel=kernel -mno-red-zone -mno-sse -mno-mmx -mno-80387 -mgeneral-regs-only
KERNEL_BASE_CFLAGS := -std=gnu11 -ffreestanding -nostdinc -isystem $(GCC_INC) -fno-pic -fno-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-omit-frame-pointer \
	-fno-strict-aliasing -O2 -g $(ARCH_CFLAGS)
KCFLAGS := $(KERNEL_BASE_CFLAGS) -isystem kernel/include -I. -Ikernel/arch/x86_64/include \
	-Wall -Wextra -Werror -Wno-unused-parameter -MMD -MP
KASFLAGS := -D__ASSEMBLY__ -I. -Ikernel/arch/x86_64/include -MMD -MP
LDFLAGS := -nostdlib -static -z max-page-size=0x1000 --no-warn-rwx-segments -T boot/link.ld

KSRC := $(wildcard boot/*.S kernel/*.c kernel/arch/x86_64/*.c kernel/arch/x86_64/*.S \
	drivers/*.c sched/*.c)
KOBJ := $(patsubst %,$(B)/k/%.o,$(KSRC))

include mk/musl.mk
include mk/mbedtls.mk

all: $(B)/shoal.elf $(B)/userland.cpio

$(DEPS_STAMP): scripts/deps.sh
	@mkdir -p $(B)
	./scripts/deps.sh
	@touch $@

# Re-run deps when a tool or third-party tree is missing.
ifneq ($(wildcard $(TP)/musl $(TP)/lwip $(TP)/mbedtls),$(TP)/musl $(TP)/lwip $(TP)/mbedtls)
$(shell rm -f $(DEPS_STAMP))
endif
ifeq ($(shell command -v qemu-system-x86_64 grub-mkrescue musl-gcc >/dev/null 2>&1 && echo ok),)
$(shell rm -f $(DEPS_STAMP))
endif

$(B)/k/%.c.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(KCFLAGS) -c $< -o $@

$(B)/k/%.S.o: %.S | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CC) $(KCFLAGS) $(KASFLAGS) -c $< -o $@

# Two links: the second carries the symbol table of the first (for backtraces).
$(B)/ksyms0.o: scripts/ksyms.sh
	@mkdir -p $(B)
	./scripts/ksyms.sh /dev/null > $(B)/ksyms0.S
	$(CC) -c $(B)/ksyms0.S -o $@

$(B)/shoal0.elf: $(KOBJ) $(MUSL_OBJ) $(MBEDTLS_LIB) $(B)/ksyms0.o boot/link.ld
	@echo "  LD      $@"
	@$(LD) $(LDFLAGS) -o $@ $(KOBJ) $(MUSL_OBJ) $(MBEDTLS_LIB) $(B)/ksyms0.o

# Second link: shoal.debug.elf keeps the DWARF for gdb; shoal.elf, the boot image, drops it
# (backtraces use the .ksyms table, not DWARF).
$(B)/shoal.debug.elf: $(B)/shoal0.elf
	@./scripts/ksyms.sh $< > $(B)/ksyms.S
	@$(CC) -c $(B)/ksyms.S -o $(B)/ksyms.o
	@echo "  LD      $@"
	@$(LD) $(LDFLAGS) -o $@ $(KOBJ) $(MUSL_OBJ) $(MBEDTLS_LIB) $(B)/ksyms.o
	@cmp -s <(nm $< | grep -i ' t ' ) <(nm $@ | grep -i ' t ') || \
		{ echo "ksyms: text moved between links"; rm -f $@; exit 1; }

$(B)/shoal.elf: $(B)/shoal.debug.elf
	@echo "  STRIP   $@"
	@objcopy --strip-debug $< $@

# The userland archive (a cpio newc module); tasks join it in a later issue.
$(B)/userland.cpio: $(wildcard userland/root/*) | $(DEPS_STAMP)
	@mkdir -p $(B)/userland-root
	cp -r userland/root/. $(B)/userland-root/
	cd $(B)/userland-root && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet > ../userland.cpio

iso: $(B)/shoal.iso
$(B)/shoal.iso: $(B)/shoal.elf $(B)/userland.cpio boot/grub-iso.cfg
	rm -rf $(B)/iso && mkdir -p $(B)/iso/boot/grub
	cp $(B)/shoal.elf $(B)/userland.cpio $(B)/iso/boot/
	cp boot/grub-iso.cfg $(B)/iso/boot/grub/grub.cfg
	@echo "  ISO     $@"
	@grub-mkrescue -o $@ $(B)/iso >$(B)/iso.log 2>&1 || { cat $(B)/iso.log; exit 1; }

run: all
	./scripts/run.sh

# tests/run.sh builds what it tests itself, so a broken build is a counted failure.
test:
	./tests/run.sh

bench: all
	./scripts/bench.sh

lint:
	./scripts/lint.sh

clean:
	rm -rf $(B)/k $(B)/musl $(B)/*.elf $(B)/*.o $(B)/*.S $(B)/*.iso $(B)/iso $(B)/iso.log $(B)/tests \
		$(B)/userland.cpio $(B)/userland-root

.PHONY: all iso run test bench lint clean
SHELL := /bin/bash
-include $(KOBJ:.o=.d)
include mk/tests.mk
