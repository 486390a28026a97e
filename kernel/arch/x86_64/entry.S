/* entry.S: the SYSCALL entry and the ways back to ring 3.
 *
 * SYSCALL leaves the user rsp in place and masks IF (FMASK), so the first instructions
 * switch GS and the stack before anything else: the CPU's syscall_rsp (%gs:8) is the
 * current thread's kernel stack top, set at every switch. The entry builds the same
 * struct trapframe an interrupt from ring 3 would, at the same place (the top of the
 * kernel stack), so the rest of the kernel sees one frame layout for both. The return
 * uses SYSRET when the frame's rip is canonical (SYSRET to a non-canonical address
 * would fault in ring 0), else IRET through trap_return. */
#include "arch/frame.inc"
#include "arch/user.h"

#define GS_SYSCALL_RSP %gs:8
#define GS_USER_RSP %gs:16
#define FRAME_RIP (17 * 8)		/* offsetof(struct trapframe, rip) */
#define CANONICAL_SHIFT 47

	.text
	.globl syscall_entry
syscall_entry:
	swapgs
	mov %rsp, GS_USER_RSP
	mov GS_SYSCALL_RSP, %rsp
	pushq $USER_DS			/* ss */
	pushq GS_USER_RSP		/* rsp */
	pushq %r11			/* rflags */
	pushq $USER_CS			/* cs */
	pushq %rcx			/* rip */
	pushq $0			/* error */
	pushq $VEC_SYSCALL		/* vector */
	PUSH_REGS
	mov %rsp, %rdi
	xor %ebp, %ebp			/* ends backtraces */
	sti
	call syscall_dispatch
	cli
	mov FRAME_RIP(%rsp), %rcx
	shr $CANONICAL_SHIFT, %rcx
	jnz trap_return
	POP_REGS
	add $16, %rsp			/* vector, error */
	mov 0(%rsp), %rcx		/* rip */
	mov 16(%rsp), %r11		/* rflags */
	mov 24(%rsp), %rsp		/* the user stack */
	swapgs
	sysretq

/* void arch_user_enter(const struct trapframe *tf): a new user thread's way out. */
	.globl arch_user_enter
arch_user_enter:
	cli
	mov %rdi, %rsp
	jmp trap_return

	.section .note.GNU-stack, "", @progbits
