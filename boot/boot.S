/* boot.S: boot headers (multiboot2, multiboot1 a.out kludge, PVH note) and the one
 * 32-bit entry that every loader reaches; it builds early page tables, enters long
 * mode and calls kmain in the higher half.
 *
 * Loaders: GRUB uses the multiboot2 header (eax = 0x36d76289, ebx = mb2 info).
 * QEMU -kernel and iPXE use the multiboot1 header with the address fields
 * (eax = 0x2badb002, ebx = mb1 info). A PVH loader enters at pvh_start with
 * ebx = hvm_start_info; we mark that with eax = BOOT_MAGIC_PVH.
 * Early tables map the first 1 GiB three times: identity, at the direct map base
 * (0xffff800000000000) and at KVMA. */

#define KVMA 0xffffffff80000000
#define PHYS(x) ((x) - KVMA)
#define BOOT_MAGIC_PVH 0x336ec578

	.section .boot.header, "a"
	.code32
	.align 8
mb2_header:
	.long 0xe85250d6		/* magic */
	.long 0				/* i386 protected mode */
	.long mb2_header_end - mb2_header
	.long -(0xe85250d6 + (mb2_header_end - mb2_header))
	.align 8			/* module alignment tag: page-aligned modules */
	.word 6, 0
	.long 8
	.align 8			/* end tag */
	.word 0, 0
	.long 8
mb2_header_end:

	.align 4
mb1_header:
	.long 0x1badb002
	.long 0x00010003		/* page-align modules, memory map, address fields */
	.long -(0x1badb002 + 0x00010003)
	.long mb1_header		/* header_addr */
	.long _load_start		/* load_addr */
	.long PHYS(_load_end)		/* load_end_addr */
	.long PHYS(_bss_end)		/* bss_end_addr */
	.long _start			/* entry_addr */

	.section .note.Xen, "a", @note
	.align 4
	.long 4				/* name size */
	.long 4				/* desc size */
	.long 18			/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long pvh_start

	.section .boot, "ax"
	.code32
	.globl _start
pvh_start:
	mov $BOOT_MAGIC_PVH, %eax
_start:
	cli
	cld
	mov %eax, %edi			/* kept in edi/esi until long mode */
	mov %ebx, %esi
	mov $PHYS(boot_stack_top), %esp

	/* Long mode present? Else say so on COM1 and halt. */
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax
	jb no_long_mode
	mov $0x80000001, %eax
	cpuid
	bt $29, %edx
	jnc no_long_mode

	/* PML4[0], PML4[256] (the direct map) and PML4[511] -> PDPT;
	 * PDPT[0] and PDPT[510] -> PD of 512 x 2 MiB. */
	mov $PHYS(boot_pdpt), %eax
	or $3, %eax
	mov %eax, PHYS(boot_pml4)
	mov %eax, PHYS(boot_pml4) + 256 * 8
	mov %eax, PHYS(boot_pml4) + 511 * 8
	mov $PHYS(boot_pd), %eax
	or $3, %eax
	mov %eax, PHYS(boot_pdpt)
	mov %eax, PHYS(boot_pdpt) + 510 * 8
	mov $PHYS(boot_pd), %ebx
	xor %ecx, %ecx
1:	mov %ecx, %eax
	shl $21, %eax
	or $0x83, %eax			/* present, writable, 2 MiB */
	mov %eax, (%ebx, %ecx, 8)
	inc %ecx
	cmp $512, %ecx
	jne 1b

	mov %cr4, %eax
	or $0x20, %eax			/* PAE */
	mov %eax, %cr4
	mov $PHYS(boot_pml4), %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx		/* EFER.LME (vmm_init turns on NXE) */
	rdmsr
	or $0x100, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80000001, %eax		/* PG | PE */
	and $~0x60000000, %eax		/* caches on: clear CD, NW */
	mov %eax, %cr0
	lgdt boot_gdtr
	ljmp $0x08, $long_entry

no_long_mode:
	mov $no_lm_msg, %esi
2:	lodsb
	test %al, %al
	jz 4f
	mov %al, %bl
	mov $0x3fd, %dx			/* wait for THR empty */
3:	in %dx, %al
	test $0x20, %al
	jz 3b
	mov $0x3f8, %dx
	mov %bl, %al
	out %al, %dx
	jmp 2b
4:	hlt
	jmp 4b

	.code64
long_entry:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %ax, %ax
	mov %ax, %fs
	mov %ax, %gs
	movabs $boot_stack_top, %rsp
	xor %ebp, %ebp
	/* edi = loader magic, esi = physical address of the loader's info */
	movabs $kmain, %rax
	call *%rax
5:	cli
	hlt
	jmp 5b

	.align 16
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff		/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff		/* 0x10: data */
boot_gdtr:
	.word boot_gdtr - boot_gdt - 1
	.long boot_gdt

no_lm_msg:
	.asciz "shoal: this CPU has no 64-bit long mode; halting\r\n"

	.section .bss
	.align 4096
	.globl boot_pml4
boot_pml4:	.skip 4096
boot_pdpt:	.skip 4096
boot_pd:	.skip 4096
	.globl boot_stack_top
boot_stack:	.skip 16384
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
