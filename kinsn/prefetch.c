// SPDX-License-Identifier: GPL-2.0
/*
 * kinsn_prefetch: a cache prefetch hint as one x86 prefetcht0, so that a
 * program can start fetching a map value or packet bytes it will read a
 * little later (after a hash, a lookup) instead of stalling then.
 *
 *   u64 bpf_prefetch(const void *p__ign) __ksym;	returns 0
 *
 * The argument is not checked ("__ign"): a prefetch reads nothing into
 * the program and never faults, whatever the address, and kfunc calls
 * need CAP_BPF. Without the emitter the body prefetches the same way.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/prefetch.h>

#include "kinsn_module.h"

static bool native = true;
module_param(native, bool, 0444);
MODULE_PARM_DESC(native, "emit native instructions (default); 0: the JIT calls the C body");

__bpf_kfunc_start_defs();

__bpf_kfunc u64 bpf_prefetch(const void *p__ign)
{
	prefetch(p__ign);
	return kinsn_prefetch((unsigned long)p__ign, 0, 0);
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(prefetch_ids)
BTF_ID_FLAGS(func, bpf_prefetch)
BTF_KFUNCS_END(prefetch_ids)

static const struct btf_kfunc_id_set prefetch_set = {
	.owner = THIS_MODULE,
	.set = &prefetch_ids,
};

/* In the order of kinsn_prefetch_defs. */
static void *const prefetch_funcs[] = { bpf_prefetch };

static struct kinsn_entry prefetch_kinsns[ARRAY_SIZE(kinsn_prefetch_defs)];

static int __init prefetch_init(void)
{
	BUILD_BUG_ON(ARRAY_SIZE(prefetch_funcs) != ARRAY_SIZE(kinsn_prefetch_defs));
	return kinsn_module_init(prefetch_kinsns, kinsn_prefetch_defs, prefetch_funcs,
				 ARRAY_SIZE(prefetch_funcs), &prefetch_set, native);
}

static void __exit prefetch_exit(void)
{
	kinsn_module_exit(prefetch_kinsns, ARRAY_SIZE(prefetch_kinsns));
}

module_init(prefetch_init);
module_exit(prefetch_exit);
MODULE_DESCRIPTION("kinsn: cache prefetch as a BPF instruction");
MODULE_LICENSE("GPL");
