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
#include <bpf/bpf.h>
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

static inline int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_DEBUG && libbpf_log_len < sizeof(libbpf_log))
		libbpf_log_len += vsnprintf(libbpf_log + libbpf_log_len,
					    sizeof(libbpf_log) - libbpf_log_len, fmt, ap);
	return 0;
}

static const char *const kinsn_modules[] = { "kinsn_crc32c", "kinsn_bitops", "kinsn_prefetch",
						"kinsn_movbe" };

/* Load module @name from @dir with module parameters @params. */
static void load_module(const char *dir, const char *name, const char *params)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s.ko", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail("open %s: %s", path, strerror(errno));
	if (syscall(SYS_finit_module, fd, params, 0))
		fail("load %s %s: %s", name, params, strerror(errno));
	close(fd);
}

/* Load every kinsn module from @dir with module parameters @params. */
static inline void load_modules(const char *dir, const char *params)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kinsn_modules); i++)
		load_module(dir, kinsn_modules[i], params);
}

static int unload_module(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

/* Programs drop their module references after an RCU grace period. */
static void unload_module_wait(const char *name)
{
	int tries = 100, err;

	while ((err = unload_module(name)) == -EWOULDBLOCK && --tries)
		usleep(100000);
	if (err)
		fail("unload %s: %s", name, strerror(-err));
}

static inline void unload_modules(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kinsn_modules); i++)
		unload_module_wait(kinsn_modules[i]);
}

/* A kernel BTF object's fd by name. */
static inline int kernel_btf_fd(const char *want)
{
	__u32 id = 0;

	while (!bpf_btf_get_next_id(id, &id)) {
		struct bpf_btf_info info = {};
		__u32 len = sizeof(info);
		char name[64];
		int fd = bpf_btf_get_fd_by_id(id);

		if (fd < 0)
			continue;
		info.name = (__u64)(unsigned long)name;
		info.name_len = sizeof(name);
		if (!bpf_btf_get_info_by_fd(fd, &info, &len) && info.kernel_btf &&
		    !strcmp(name, want))
			return fd;
		close(fd);
	}
	fail("no BTF object %s", want);
	return -1;
}

#endif
