/* memhog.c: takes memory 1 MiB at a time with mmap, writing to every page so that each
 * one is really backed, until it holds MIB MiB (default: no bound) or the kernel says
 * ENOMEM. It reports progress as it goes, so a task ended by its memory limit still
 * shows how far it got. Exit 0: got all it asked for; 3: stopped by ENOMEM. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

#define CHUNK (1024 * 1024)
#define REPORT_EVERY 8 /* MiB */

int main(int argc, char **argv)
{
	long want = arg_num(argc, argv, 1, 0);
	long page = sysconf(_SC_PAGESIZE);
	long got = 0;

	if (want < 0 || page <= 0) {
		fprintf(stderr, "usage: memhog [MIB]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0); /* each line out before a possible kill */
	if (want)
		printf("memhog: taking %ld MiB\n", want);
	else
		printf("memhog: taking all the memory it can\n");
	while (!want || got < want) {
		char *p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			       0);
		if (p == MAP_FAILED) {
			printf("memhog: %s after %ld MiB\n", strerror(errno), got);
			return errno == ENOMEM ? 3 : 2;
		}
		for (long off = 0; off < CHUNK; off += page)
			p[off] = (char)off;
		got++;
		if (got % REPORT_EVERY == 0)
			printf("memhog: %ld MiB\n", got);
	}
	printf("memhog: got %ld MiB\n", got);
	return 0;
}
