/* hello.c: the smallest task: a greeting, then its arguments one per line, and one line
 * on stderr; exit 0. The QEMU tests check this exact output, so it doubles as the
 * argv/stdout/stderr smoke test. */
#include <stdio.h>

int main(int argc, char **argv)
{
	printf("hello from shoal task\n");
	for (int i = 0; i < argc; i++)
		printf("argv[%d] = %s\n", i, argv[i]);
	fflush(stdout); /* keep the order when both streams land in one log */
	fprintf(stderr, "hello: this line went to stderr\n");
	return 0;
}
