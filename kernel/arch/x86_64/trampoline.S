/* trampoline.S: where an application processor starts (real mode, CS:IP = page:0
 * after the STARTUP IPI) and how it reaches the kernel in long mode.
 *
 * smp.c copies trampoline_start..trampoline_end to a free page below 1 MiB and fills
 * the page tables that follow it and the fields marked "patched": the GDT pointer and
 * the two far-jump targets hold absolute addresses, known only once the page is
 * chosen. The first step into long mode uses page tables below 4 GiB (CR3 is 32 bits
 * wide until then): a PML4 copied from the kernel's, plus an identity map of the first
 * 2 MiB so that the instruction after the switch still has a mapping. In the kernel's
 * half the AP then loads the kernel's own CR3, takes a stack and calls smp_ap_main. */

#define TRAMP_PML4 0x1000	/* offset of the trampoline's PML4 from its page */
#define CR0_PE 0x00000001
#define CR0_WP 0x00010000
#define CR0_PG 0x80000000
#define CR4_PAE 0x20
#define MSR_EFER 0xc0000080
#define SEL_CODE32 0x08
#define SEL_DATA 0x10
#define SEL_CODE64 0x18

	.section .rodata.trampoline, "a"
	.code16
	.globl trampoline_start, trampoline_end
	.globl tramp_gdtr, tramp_pm_jump, tramp_lm_jump, tramp_efer
trampoline_start:
	cli
	cld
	mov %cs, %ax
	mov %ax, %ds
	xor %ebx, %ebx
	mov %ax, %bx
	shl $4, %ebx			/* ebx = physical address of this page */
	lgdtl tramp_gdtr - trampoline_start
	mov %cr0, %eax
	or $CR0_PE, %eax
	mov %eax, %cr0
	ljmpl *(tramp_pm_jump - trampoline_start)

	.code32
pm_entry:
	mov $SEL_DATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	lea TRAMP_PML4(%ebx), %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or (tramp_efer - trampoline_start)(%ebx), %eax	/* LME, and NXE when the CPU has NX */
	wrmsr
	mov %cr0, %eax
	or $(CR0_PG | CR0_WP), %eax
	mov %eax, %cr0
	ljmp *(tramp_lm_jump - trampoline_start)(%ebx)

	.code64
lm_entry:
	movabs $ap_entry64, %rax	/* on to the kernel's half */
	jmp *%rax

	.align 8
tramp_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
	.quad 0x00af9a000000ffff	/* 0x18: 64-bit code */
tramp_gdt_end:
tramp_gdtr:
	.word tramp_gdt_end - tramp_gdt - 1
	.long tramp_gdt - trampoline_start	/* patched: + page */
	.align 4
tramp_pm_jump:
	.long pm_entry - trampoline_start	/* patched: + page */
	.word SEL_CODE32
	.align 4
tramp_lm_jump:
	.long lm_entry - trampoline_start	/* patched: + page */
	.word SEL_CODE64
	.align 4
tramp_efer:
	.long 0				/* patched */
trampoline_end:

	/* Running in the kernel's half on the trampoline's page tables. */
	.text
	.code64
ap_entry64:
	mov $SEL_DATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %eax, %eax
	mov %ax, %fs
	mov %ax, %gs
	mov smp_boot_cr3(%rip), %rax
	mov %rax, %cr3
	mov $1, %eax			/* take the next free stack */
	lock xaddl %eax, smp_ap_next_stack(%rip)
	lea smp_ap_stacks(%rip), %rcx
	mov (%rcx, %rax, 8), %rsp
	xor %ebp, %ebp
	call smp_ap_main
1:	cli
	hlt
	jmp 1b

	.section .note.GNU-stack, "", @progbits
