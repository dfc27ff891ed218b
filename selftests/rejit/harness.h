/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The harness of the BPF_PROG_REJIT VM tests: cases run by name, one line
 * each ("ok   NAME [detail] [(time)]" or "FAIL NAME"); CHECK and ASSERT say
 * where and why a case failed; REJIT_CASES picks cases by name.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int passed, failed;
static const char *current;
/* What a passing case has to say after its name. */
static char detail[512];

#define CHECK(cond, fmt, ...)                                                  \
	({                                                                     \
		int __ok = !!(cond);                                           \
		if (!__ok)                                                     \
			fprintf(stderr, "  %s:%d %s: " fmt "\n", __FILE__,     \
				__LINE__, current, ##__VA_ARGS__);             \
		__ok;                                                          \
	})
#define ASSERT(cond, fmt, ...)                                                 \
	do {                                                                   \
		if (!CHECK(cond, fmt, ##__VA_ARGS__))                          \
			return -1;                                             \
	} while (0)

static inline double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * Run case @fn as @name; its time is printed from a second on. With
 * REJIT_CASES="a b" in the environment, only the cases named there run.
 */
static inline void run(const char *name, int (*fn)(void))
{
	const char *only = getenv("REJIT_CASES"), *at;
	double t0 = now_ms(), secs;
	size_t len = strlen(name);

	for (at = only; at && (at = strstr(at, name)); at += len)
		if ((at == only || at[-1] == ' ') && (at[len] == ' ' || !at[len]))
			break;
	if (only && !at)
		return;
	current = name;
	detail[0] = 0;
	if (fn() == 0) {
		secs = (now_ms() - t0) / 1e3;
		if (detail[0])
			printf("ok   %-28s %s", name, detail);
		else
			printf("ok   %s", name);
		if (secs >= 1)
			printf(" (%.1f s)", secs);
		printf("\n");
		passed++;
	} else {
		printf("FAIL %s\n", name);
		failed++;
	}
	fflush(stdout);
}

#endif
