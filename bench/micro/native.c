// SPDX-License-Identifier: GPL-2.0
/* The native build's index: every benchmark linked into libmicro_native.so
 * registers itself in section bench_natives (bench.h).
 */
#include <stddef.h>

#include "bench.h"

extern const struct bench_native __start_bench_natives[];
extern const struct bench_native __stop_bench_natives[];

const struct bench_native *bench_natives(size_t *n)
{
	*n = (size_t)(__stop_bench_natives - __start_bench_natives);
	return __start_bench_natives;
}
