/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every kinsn module does: register its kfuncs (bodies = meaning) and
 * one kinsn descriptor per kfunc, with x86 code where the boot CPU can run
 * it and an operand form where kinsn_defs.h gives one.
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
	const struct kinsn_op_def *op;	/* NULL: no operand form */
};

static inline const struct kinsn_entry *to_entry(const struct bpf_kinsn *kinsn)
{
	return container_of(kinsn, struct kinsn_entry, kinsn);
}

static inline int kinsn_expand(const struct bpf_kinsn *kinsn,
			const struct bpf_insn *op, struct bpf_insn *seq,
			u16 *clobber)
{
	int cnt = to_entry(kinsn)->op->expand(op, seq, clobber);

	return cnt < 0 ? -EINVAL : cnt;
}

#ifdef CONFIG_X86_64
static inline int kinsn_emit_x86(const struct bpf_kinsn *kinsn, u8 *buf,
			  const struct bpf_insn *insn)
{
	const struct kinsn_def *def = to_entry(kinsn)->def;

	memcpy(buf, def->x86, def->x86_len);
	return def->x86_len;
}

static inline int kinsn_emit_x86_op(const struct bpf_kinsn *kinsn, u8 *buf,
			     const struct bpf_insn *op, const u8 *regs)
{
	return to_entry(kinsn)->op->x86(op, regs, buf);
}

static inline bool kinsn_cpu_has(enum kinsn_cpu cpu)
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
	case KINSN_CPU_BMI2:
		return boot_cpu_has(X86_FEATURE_BMI2);
	case KINSN_CPU_MOVBE:
		return boot_cpu_has(X86_FEATURE_MOVBE);
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
 * Function-like kinsns (kinsn_mem.h) are their bodies: descriptors without
 * emitter, so that tools find them. Register before kinsn_module_init(),
 * which makes the kfuncs callable.
 */
static inline void kinsn_unregister_bodies(struct bpf_kinsn *k, unsigned int cnt)
{
	while (cnt--)
		bpf_kinsn_unregister(&k[cnt]);
}

static inline int kinsn_register_bodies(struct bpf_kinsn *k,
					const char *const *names,
					void *const *funcs, unsigned int cnt)
{
	unsigned int i;
	int err;

	for (i = 0; i < cnt; i++) {
		k[i].name = names[i];
		k[i].func = funcs[i];
		k[i].owner = THIS_MODULE;
		err = bpf_kinsn_register(&k[i]);
		if (err) {
			kinsn_unregister_bodies(k, i);
			return err;
		}
	}
	return 0;
}

static inline const struct kinsn_op_def *kinsn_op_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kinsn_op_defs); i++)
		if (!strcmp(kinsn_op_defs[i].name, name))
			return &kinsn_op_defs[i];
	return NULL;
}

/*
 * Register the kfuncs of @set (whose functions @funcs are in the order of
 * @defs) and their kinsns, with their operand forms (kinsn_op_defs, by
 * name); @native false
 * leaves every kinsn without emitter, so that the JIT calls the C bodies
 * and runs the plain sequences of operand forms (for tests).
 */
static inline int kinsn_module_init(struct kinsn_entry *e,
				    const struct kinsn_def *defs,
				    void *const *funcs, unsigned int cnt,
				    const struct btf_kfunc_id_set *set,
				    bool native)
{
	unsigned int i, emitters = 0;
	int err = 0;

	BUILD_BUG_ON(KINSN_OP_MAX > BPF_KINSN_MAX_SEQ);
	BUILD_BUG_ON(KINSN_X86_MAX > BPF_KINSN_MAX_LEN);
	for (i = 0; i < cnt && !err; i++) {
		e[i].def = &defs[i];
		e[i].op = kinsn_op_find(defs[i].name);
		e[i].kinsn.name = defs[i].name;
		e[i].kinsn.func = funcs[i];
		e[i].kinsn.owner = THIS_MODULE;
		if (e[i].op)
			e[i].kinsn.expand = kinsn_expand;
#ifdef CONFIG_X86_64
		if (native && kinsn_cpu_has(defs[i].cpu)) {
			e[i].kinsn.emit_x86 = kinsn_emit_x86;
			emitters++;
		} else if (native) {
			pr_info("%s: CPU lacks the instruction, calls stay calls\n",
				defs[i].name);
		}
		if (native && e[i].op && kinsn_cpu_has(e[i].op->cpu))
			e[i].kinsn.emit_x86_op = kinsn_emit_x86_op;
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
