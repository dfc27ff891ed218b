// SPDX-License-Identifier: GPL-2.0
/* 4x4 u32 matrices from the input: C = A * B, then D = C * B. Fixed
 * nested loops clang unrolls fully: 128 multiply-adds, many live values
 * (spills in BPF, vectors natively).
 */
#include "bench.h"

#define N 4

BENCH_XDP(matrix_mul_small)
{
	u32 a[N][N], b[N][N], c[N][N];
	u64 h = 0;

	if (in + 2 * N * N * 4 > end)
		return 0;
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++) {
			a[i][j] = *(const u32 *)(in + (i * N + j) * 4);
			b[i][j] = *(const u32 *)(in + (N * N + i * N + j) * 4);
		}
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++) {
			u32 s = 0;

			for (int k = 0; k < N; k++)
				s += a[i][k] * b[k][j];
			c[i][j] = s;
		}
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++) {
			u32 s = 0;

			for (int k = 0; k < N; k++)
				s += c[i][k] * b[k][j];
			h = h * 0x9e3779b1 + s;
		}
	return h;
}

BENCH_INPUT(matrix_mul_small)
{
	(void)cap;
	return bench_fill(buf, 2 * N * N * 4, 0x1000 + k);
}
