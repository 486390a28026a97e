/* setjmp.S: kernel setjmp/longjmp (callee-saved registers, stack, flags). */
	.text
	.globl ksetjmp
ksetjmp:				/* int ksetjmp(uint64_t buf[9]) */
	mov %rbx, 0(%rdi)
	mov %rbp, 8(%rdi)
	mov %r12, 16(%rdi)
	mov %r13, 24(%rdi)
	mov %r14, 32(%rdi)
	mov %r15, 40(%rdi)
	lea 8(%rsp), %rdx		/* caller's rsp after return */
	mov %rdx, 48(%rdi)
	mov (%rsp), %rdx		/* return address */
	mov %rdx, 56(%rdi)
	pushfq
	pop %rdx
	mov %rdx, 64(%rdi)
	xor %eax, %eax
	ret

	.globl klongjmp
klongjmp:				/* void klongjmp(uint64_t buf[9], int v) */
	mov 0(%rdi), %rbx
	mov 8(%rdi), %rbp
	mov 16(%rdi), %r12
	mov 24(%rdi), %r13
	mov 32(%rdi), %r14
	mov 40(%rdi), %r15
	mov 48(%rdi), %rsp
	push 64(%rdi)
	popfq
	mov %esi, %eax
	test %eax, %eax
	jnz 1f
	inc %eax
1:	jmp *56(%rdi)

	.section .note.GNU-stack, "", @progbits
