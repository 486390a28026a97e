# shoal: one entry point. `make` builds the kernel; see README.md for the rest.
.SUFFIXES:
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules
.DEFAULT_GOAL := all

B := build
TP := $(B)/third_party

# Install packages and unpack third-party sources before anything else is read, whenever
# something the build or the tests need is missing (a fresh machine, a fresh clone).
DEPS_TOOLS := qemu-system-x86_64 grub-mkrescue xorriso mformat musl-gcc cppcheck clang-format \
	cpio python3 objcopy clang serf
DEPS_FILES := $(TP)/musl/src $(TP)/lwip/src $(TP)/mbedtls/library $(TP)/promtool /usr/include/cmocka.h /usr/include/mbedtls/ssl.h \
	/usr/share/ovmf/OVMF.fd /usr/lib/grub/i386-pc /usr/lib/grub/x86_64-efi \
	/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a
ifeq ($(filter clean,$(MAKECMDGOALS)),)
deps_missing := $(filter-out $(wildcard $(DEPS_FILES)),$(DEPS_FILES)) \
	$(shell for t in $(DEPS_TOOLS); do command -v $$t >/dev/null || echo $$t; done)
ifneq ($(strip $(deps_missing)),)
$(info deps: missing $(strip $(deps_missing)); running scripts/deps.sh)
ifneq ($(shell ./scripts/deps.sh >&2 && echo ok),ok)
$(error scripts/deps.sh failed)
endif
endif
endif

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

KSRC := $(wildcard boot/*.S kernel/*.c kernel/syscall/*.c kernel/fs/*.c \
	kernel/arch/x86_64/*.c kernel/arch/x86_64/*.S drivers/*.c sched/*.c sched/cluster/*.c \
	net/console/*.c)
KOBJ := $(patsubst %,$(B)/k/%.o,$(KSRC))

include mk/musl.mk
include mk/mbedtls.mk
include mk/lwip.mk
include mk/gossip.mk

all: $(B)/shoal.elf $(B)/userland.cpio

$(B)/k/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(KCFLAGS) -c $< -o $@

$(B)/k/%.S.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CC) $(KCFLAGS) $(KASFLAGS) -c $< -o $@

# Two links: the second carries the symbol table of the first (for backtraces).
$(B)/ksyms0.o: scripts/ksyms.sh
	@mkdir -p $(B)
	./scripts/ksyms.sh /dev/null > $(B)/ksyms0.S
	$(CC) -c $(B)/ksyms0.S -o $@

$(B)/shoal0.elf: $(KOBJ) $(MUSL_OBJ) $(LWIP_LIB) $(MBEDTLS_LIB) $(B)/ksyms0.o boot/link.ld
	@echo "  LD      $@"
	@$(LD) $(LDFLAGS) -o $@ $(KOBJ) $(MUSL_OBJ) $(LWIP_LIB) $(MBEDTLS_LIB) $(B)/ksyms0.o

# Second link: shoal.debug.elf keeps the DWARF for gdb; shoal.elf, the boot image, drops it
# (backtraces use the .ksyms table, not DWARF).
$(B)/shoal.debug.elf: $(B)/shoal0.elf
	@./scripts/ksyms.sh $< > $(B)/ksyms.S
	@$(CC) -c $(B)/ksyms.S -o $(B)/ksyms.o
	@echo "  LD      $@"
	@$(LD) $(LDFLAGS) -o $@ $(KOBJ) $(MUSL_OBJ) $(LWIP_LIB) $(MBEDTLS_LIB) $(B)/ksyms.o
	@cmp -s <(nm $< | grep -i ' t ' ) <(nm $@ | grep -i ' t ') || \
		{ echo "ksyms: text moved between links"; rm -f $@; exit 1; }

$(B)/shoal.elf: $(B)/shoal.debug.elf
	@echo "  STRIP   $@"
	@objcopy --strip-debug $< $@

# The userland archive (a cpio newc module) and the example tasks in it.
include mk/userland.mk

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
# Host builds of the gossip core: the simulator (`make sim`) and the fuzzers (`make fuzz`).
include mk/sim.mk
include mk/fuzz.mk
include mk/cluster.mk
include mk/console.mk
include mk/pxe.mk
