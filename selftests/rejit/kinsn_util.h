/* SPDX-License-Identifier: GPL-2.0 */
/* What the kinsn VM tests share: failing loudly, libbpf's log, the modules. */
#ifndef KINSN_UTIL_H
#define KINSN_UTIL_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static char libbpf_log[65536];
static size_t libbpf_log_len;

static void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "FAIL: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_DEBUG && libbpf_log_len < sizeof(libbpf_log))
		libbpf_log_len += vsnprintf(libbpf_log + libbpf_log_len,
					    sizeof(libbpf_log) - libbpf_log_len, fmt, ap);
	return 0;
}

static const char *const kinsn_modules[] = { "kinsn_crc32c", "kinsn_bitops" };

/* Load every kinsn module from @dir with module parameters @params. */
static void load_modules(const char *dir, const char *params)
{
	char path[4096];
	size_t i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(kinsn_modules); i++) {
		snprintf(path, sizeof(path), "%s/%s.ko", dir, kinsn_modules[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			fail("open %s: %s", path, strerror(errno));
		if (syscall(SYS_finit_module, fd, params, 0))
			fail("load %s %s: %s", kinsn_modules[i], params, strerror(errno));
		close(fd);
	}
}

static int unload_module(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

static void unload_modules(void)
{
	size_t i;
	int err;

	/* Programs drop their module references after an RCU grace period. */
	for (i = 0; i < ARRAY_SIZE(kinsn_modules); i++) {
		int tries = 100;

		while ((err = unload_module(kinsn_modules[i])) == -EWOULDBLOCK && --tries)
			usleep(100000);
		if (err)
			fail("unload %s: %s", kinsn_modules[i], strerror(-err));
	}
}

#endif
