// SPDX-License-Identifier: GPL-2.0
/* Load N small socket filter programs and keep them until stdin closes or
 * the process is killed: "thousands of programs" for bpfrejitd's tests.
 * Prints "ready N" once all are loaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

int main(int argc, char **argv)
{
	struct bpf_insn prog[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int n = argc > 1 ? atoi(argv[1]) : 0, i;
	struct rlimit nofile;
	char c;

	if (n <= 0) {
		fprintf(stderr, "usage: many_progs N\n");
		return 2;
	}
	/* one fd per program, beyond the default limit of 1024 */
	nofile.rlim_cur = nofile.rlim_max = n + 64;
	if (setrlimit(RLIMIT_NOFILE, &nofile)) {
		perror("setrlimit");
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "many", "GPL", prog, 2,
				  NULL) < 0) {
			perror("bpf_prog_load");
			return 1;
		}
	}
	printf("ready %d\n", n);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
