/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every kinsn module does: register its kfuncs (bodies = meaning) and
 * one kinsn descriptor per kfunc whose x86 code the boot CPU can run.
 */
#ifndef KINSN_MODULE_H
#define KINSN_MODULE_H

#include <linux/bpf_kinsn.h>
#include <linux/btf.h>
#include <linux/module.h>
#include <linux/string.h>
#ifdef CONFIG_X86_64
#include <asm/cpufeature.h>
#endif

#include "kinsn_defs.h"

struct kinsn_entry {
	struct bpf_kinsn kinsn;
	const struct kinsn_def *def;
};

#ifdef CONFIG_X86_64
static int kinsn_emit_x86(const struct bpf_kinsn *kinsn, u8 *buf,
			  const struct bpf_insn *insn)
{
	const struct kinsn_def *def =
		container_of(kinsn, struct kinsn_entry, kinsn)->def;

	memcpy(buf, def->x86, def->x86_len);
	return def->x86_len;
}

static bool kinsn_cpu_has(enum kinsn_cpu cpu)
{
	switch (cpu) {
	case KINSN_CPU_BASE:
		return true;
	case KINSN_CPU_SSE4_2:
		return boot_cpu_has(X86_FEATURE_XMM4_2);
	case KINSN_CPU_POPCNT:
		return boot_cpu_has(X86_FEATURE_POPCNT);
	case KINSN_CPU_ABM:
		return boot_cpu_has(X86_FEATURE_ABM);
	case KINSN_CPU_BMI1:
		return boot_cpu_has(X86_FEATURE_BMI1);
	}
	return false;
}
#endif

static inline void kinsn_module_exit(struct kinsn_entry *e, unsigned int cnt)
{
	while (cnt--)
		bpf_kinsn_unregister(&e[cnt].kinsn);
}

/*
 * Register the kfuncs of @set (whose functions @funcs are in the order of
 * @defs) and their kinsns; @native false leaves every kinsn without
 * emitter, so that the JIT calls the C bodies (for tests).
 */
static inline int kinsn_module_init(struct kinsn_entry *e,
				    const struct kinsn_def *defs,
				    void *const *funcs, unsigned int cnt,
				    const struct btf_kfunc_id_set *set,
				    bool native)
{
	unsigned int i, emitters = 0;
	int err = 0;

	for (i = 0; i < cnt && !err; i++) {
		e[i].def = &defs[i];
		e[i].kinsn.name = defs[i].name;
		e[i].kinsn.func = funcs[i];
#ifdef CONFIG_X86_64
		if (native && kinsn_cpu_has(defs[i].cpu)) {
			e[i].kinsn.emit_x86 = kinsn_emit_x86;
			emitters++;
		} else if (native) {
			pr_info("%s: CPU lacks the instruction, calls stay calls\n",
				defs[i].name);
		}
#endif
		err = bpf_kinsn_register(&e[i].kinsn);
	}
	if (err) {
		kinsn_module_exit(e, i - 1);
		return err;
	}
	/* Last: from here on programs can call the kfuncs. */
	err = register_btf_kfunc_id_set(BPF_PROG_TYPE_UNSPEC, set);
	if (err) {
		kinsn_module_exit(e, cnt);
		return err;
	}
	pr_info("%u kinsns, %u with native x86 code\n", cnt, emitters);
	return 0;
}

#endif /* KINSN_MODULE_H */
