/* crashtest.h: deliberate crashes for testing the panic path (debug.crash=KIND). */
#ifndef KERNEL_CRASHTEST_H
#define KERNEL_CRASHTEST_H

/* Crash the kernel in the way named by kind (enum debug_crash); returns for none. */
void crashtest_run(int kind);

#endif
