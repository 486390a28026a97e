/* spawn-bench.c: Linux's side of the spawn-to-exit benchmark (scripts/bench/tasks.py):
 * N times fork, execve PROGRAM (default /bin/hello) with its output sent to /dev/null,
 * and wait for it; prints "bench: spawn N spawns X ns/spawn". Only the Linux guest runs
 * it (shoal has no fork; its tasks are spawned by the kernel). */
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

int main(int argc, char **argv)
{
	long n = arg_num(argc, argv, 1, 1000);
	char *prog = argc > 2 ? argv[2] : "/bin/hello";
	char *args[] = {prog, NULL}, *env[] = {NULL};
	int null = open("/dev/null", O_WRONLY);

	if (n < 1 || null < 0) {
		fprintf(stderr, "usage: spawn-bench [N] [PROGRAM] (and /dev/null must exist)\n");
		return 2;
	}
	uint64_t t0 = now_ns();
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("spawn-bench: fork");
			return 1;
		}
		if (pid == 0) {
			dup2(null, 1);
			execve(prog, args, env);
			_exit(127);
		}
		int st;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "spawn-bench: %s failed\n", prog);
			return 1;
		}
	}
	uint64_t took = now_ns() - t0;
	printf("bench: spawn %ld spawns %llu ns/spawn\n", n, (unsigned long long)(took / n));
	return 0;
}
