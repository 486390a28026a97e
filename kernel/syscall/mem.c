/* mem.c: memory system calls - brk, mmap, munmap, mprotect, madvise - on the task's
 * address space (kernel/uspace.h). mmap serves anonymous memory; MAP_SHARED anonymous
 * memory is private (tasks do not fork, so nobody could share it); file mappings answer
 * -ENODEV (musl's static programs never make them). */
#include <errno.h>

#include "kernel/proc.h"
#include "kernel/syscall.h"
#include "kernel/uspace.h"

#define NR_MMAP 9
#define NR_MPROTECT 10
#define NR_MUNMAP 11
#define NR_BRK 12
#define NR_MADVISE 28

#define MAP_TYPE 0x0f
/* Flags that change nothing here: MAP_NORESERVE, MAP_POPULATE, MAP_STACK, MAP_GROWSDOWN
 * (the stack region is reserved whole), MAP_DENYWRITE, MAP_EXECUTABLE, MAP_LOCKED. */
#define MAP_IGNORED (0x4000 | 0x8000 | 0x20000 | 0x0100 | 0x0800 | 0x1000 | 0x2000)
#define MAP_KNOWN (MAP_TYPE | MAP_FIXED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_IGNORED)
#define MADV_DONTNEED 4

static long sys_brk(long addr, long a1, long a2, long a3, long a4, long a5)
{
	return uspace_brk(task_current()->us, (uint64_t)addr);
}
SYSCALL_DEFINE(NR_BRK, sys_brk);

static long sys_mmap(long addr, long len, long prot, long flags, long fd, long off)
{
	int type = (int)(flags & MAP_TYPE);
	if ((type != MAP_PRIVATE && type != MAP_SHARED) || (flags & ~(long)MAP_KNOWN) ||
	    (prot & ~(long)(PROT_READ | PROT_WRITE | PROT_EXEC)))
		return -EINVAL;
	if (!(flags & MAP_ANONYMOUS))
		return -ENODEV;
	if (off % 4096)
		return -EINVAL;
	return uspace_mmap(task_current()->us, (uint64_t)addr, (uint64_t)len, (int)prot,
			   (int)flags);
}
SYSCALL_DEFINE(NR_MMAP, sys_mmap);

static long sys_munmap(long addr, long len, long a2, long a3, long a4, long a5)
{
	return uspace_munmap(task_current()->us, (uint64_t)addr, (uint64_t)len);
}
SYSCALL_DEFINE(NR_MUNMAP, sys_munmap);

static long sys_mprotect(long addr, long len, long prot, long a3, long a4, long a5)
{
	return uspace_mprotect(task_current()->us, (uint64_t)addr, (uint64_t)len, (int)prot);
}
SYSCALL_DEFINE(NR_MPROTECT, sys_mprotect);

/* Advice is accepted and ignored, except MADV_DONTNEED, whose promise (the range reads
 * back as zeros) is kept by dropping the pages. */
static long sys_madvise(long addr, long len, long advice, long a3, long a4, long a5)
{
	if (advice == MADV_DONTNEED)
		return uspace_discard(task_current()->us, (uint64_t)addr, (uint64_t)len);
	return addr % 4096 ? -EINVAL : 0;
}
SYSCALL_DEFINE(NR_MADVISE, sys_madvise);
