// SPDX-License-Identifier: GPL-2.0
/* Writes every benchmark's inputs beside its object: NAME.in (k = 0, the
 * file format any benchmarked object may come with: the raw input, no
 * slot) and NAME.in.1 .. NAME.in.7, the further inputs results are
 * checked on. Linked with the native build of all benchmarks.
 *
 *	gen_inputs OUT_DIR
 */
#include <stdio.h>

#include "bench.h"

#define BENCH_INPUTS 8

const struct bench_native *bench_natives(size_t *n);

int main(int argc, char **argv)
{
	static u8 buf[BENCH_INPUT_MAX];
	const struct bench_native *b;
	size_t n;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_inputs OUT_DIR\n");
		return 2;
	}
	b = bench_natives(&n);
	for (size_t i = 0; i < n; i++) {
		for (u32 k = 0; k < BENCH_INPUTS; k++) {
			char path[4096];
			u32 len = b[i].input(buf, sizeof(buf), k);
			FILE *f;

			if (k)
				snprintf(path, sizeof(path), "%s/%s.in.%u", argv[1], b[i].name, k);
			else
				snprintf(path, sizeof(path), "%s/%s.in", argv[1], b[i].name);
			f = fopen(path, "wb");
			if (!f || len > sizeof(buf) || fwrite(buf, 1, len, f) != len ||
			    fclose(f)) {
				perror(path);
				return 1;
			}
		}
	}
	return 0;
}
