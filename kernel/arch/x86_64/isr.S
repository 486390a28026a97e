/* isr.S: the 256 interrupt entry stubs and the common path to trap(). Each stub pushes
 * a dummy error code when the CPU does not, then its vector. SWAPGS on entry from and
 * exit to ring 3 keeps %gs pointing at the kernel's per-CPU data inside the kernel. */
#include "arch/frame.inc"

	.text
	.altmacro

.macro stub n
	.align 16
isr_\n:
	.if (\n == 8 || (\n >= 10 && \n <= 14) || \n == 17 || \n == 21 || \n == 29 || \n == 30)
	.else
	push $0
	.endif
	push $\n
	jmp isr_common
.endm

.macro entry n
	.quad isr_\n
.endm

	.set i, 0
	.rept 256
	stub %i
	.set i, i + 1
	.endr

isr_common:
	testb $3, 24(%rsp)		/* cs of the interrupted context */
	jz 1f
	swapgs
1:	PUSH_REGS
	mov %rsp, %rdi
	cld
	call trap
	.globl trap_return
trap_return:
	POP_REGS
	testb $3, 24(%rsp)
	jz 2f
	swapgs
2:	add $16, %rsp			/* vector, error code */
	iretq

	.section .rodata
	.align 8
	.globl isr_table
isr_table:
	.set i, 0
	.rept 256
	entry %i
	.set i, i + 1
	.endr

	.section .note.GNU-stack, "", @progbits
