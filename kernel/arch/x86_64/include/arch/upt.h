/* upt.h: the x86-64 specifics of user page tables that the generic page-table calls
 * (kernel/vmm.h) do not cover: tearing a user half down, and TLB flushes by root. */
#ifndef ARCH_UPT_H
#define ARCH_UPT_H

#include <stdint.h>

/* A new top-level table whose kernel half is the kernel's: its physical address, or 0
 * when out of memory. */
uint64_t upt_create(void);
/* Free the user half under root - each mapped user page through free_page, then every
 * page table - and the top-level table itself. Returns the number of pages passed to
 * free_page. */
uint64_t upt_destroy(uint64_t root, void (*free_page)(uint64_t pa));
/* Flush this CPU's TLB if root is loaded here (an smp_call_others function: arg is a
 * pointer to the root). */
void upt_flush_if_loaded(void *root);

#endif
