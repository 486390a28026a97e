/* switch.S: the kernel thread context switch and the first-run trampoline.
 *
 * A switched-out thread's stack holds, from its saved rsp up: r15 r14 r13 r12 rbx rbp
 * and the return address into whoever called arch_switch. Only callee-saved registers
 * need saving because arch_switch is an ordinary call; rflags need not be saved since
 * every switch happens with interrupts disabled (and DF clear, per the ABI). */
	.text

/* struct thread *arch_switch(struct thread *prev, struct thread *next)
 * Saves prev's context (prev->rsp is the first field of struct thread), resumes next,
 * and returns prev in the resumed context so that it can finish the switch. */
	.globl arch_switch
arch_switch:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, (%rdi)
	mov (%rsi), %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	mov %rdi, %rax
	ret

/* A new thread's first arch_switch "returns" here with the previous thread in rax
 * and rsp 16-byte aligned (thread_create builds the frame). thread_entry never returns;
 * rbp = 0 ends backtraces. */
	.globl arch_thread_start
arch_thread_start:
	mov %rax, %rdi
	xor %ebp, %ebp
	call thread_entry
	ud2

	.section .note.GNU-stack, "", @progbits
