/* fpu.h: SSE/AVX state. The kernel itself is built without SSE, but threads (and the
 * tasks of later issues) use it, so the state is saved and restored on every context
 * switch: XSAVE where the CPU has it, FXSAVE otherwise (some nested hypervisors
 * mishandle XSAVE/XRSTOR, see fpu= on the command line). */
#ifndef KERNEL_FPU_H
#define KERNEL_FPU_H

#include <stdbool.h>
#include <stddef.h>

/* Turn on SSE (and AVX via XCR0 when present) on the calling CPU. */
void fpu_init_cpu(void);
/* False with fpu=off: SSE is disabled and nothing is saved or restored. */
bool fpu_enabled(void);
/* Bytes of a save area (64-byte aligned). */
size_t fpu_state_size(void);
/* A fresh save area with the default state; NULL when out of memory. */
void *fpu_state_alloc(void);
void fpu_state_free(void *s);
void fpu_save(void *s);
void fpu_restore(const void *s);

#endif
