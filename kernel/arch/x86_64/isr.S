/* isr.S: the 256 interrupt entry stubs and the common path to trap(). Each stub pushes
 * a dummy error code when the CPU does not, then its vector. SWAPGS on entry from and
 * exit to ring 3 keeps %gs pointing at the kernel's per-CPU data inside the kernel. */
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
1:	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi
	cld
	call trap
	.globl trap_return
trap_return:
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
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
