# BpfReJIT top-level entry points. See README.md.
#
#   make run            build everything, boot the patched kernel, run the demo
#   make test           build everything, host unit tests + VM tests
#   make test-debug     VM tests on a KASAN/lockdep build of the same kernel
#   make bench          micro suite: replay on the host CPU, clang, host-kernel tier
#                       (BENCH_OBJS=..); kinsn tables: host CPU, VM
#   make install        install bpfrejitd, bpfrejit, the systemd unit and a config
#   make vm-run CMD=..  run a command in the patched kernel's VM
#   make vm-shell       interactive shell in the VM
#   make fuzz-kernel N=.. SEED=..  the BPF_PROG_REJIT fuzzer alone in the VM
#   make export-patches regenerate kernel-patches/ and bpftool-ext/ from build/linux
#   make check-series   checkpatch and compile check of every patch

BUILD := $(CURDIR)/build
SCRIPTS := $(CURDIR)/vm-scripts
CMAKE_BUILD := $(BUILD)/rejit-daemon

.PHONY: all deps kernel-src kernel tools kinsn daemon selftests install rootfs \
	kernel-debug kinsn-debug test-debug \
	test unit-test bench vm-test vm-test-systemd run vm-run vm-shell fuzz-kernel export-patches \
	check-series \
	clean distclean

all: daemon selftests kinsn

deps:
	@$(SCRIPTS)/deps.sh

kernel-src: deps
	@$(SCRIPTS)/fetch-kernel.sh

kernel: kernel-src
	@$(SCRIPTS)/build-kernel.sh

tools: kernel
	@$(SCRIPTS)/build-tools.sh

kinsn: kernel
	@$(SCRIPTS)/build-kinsn.sh

daemon: tools
	@cmake -S rejit-daemon -B $(CMAKE_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
	@cmake --build $(CMAKE_BUILD) -j$$(nproc) -- --no-print-directory

# Into $(DESTDIR)/usr/local; the config only if there is none yet.
install: daemon
	@cmake --install $(CMAKE_BUILD)
	@test -e $(DESTDIR)/etc/bpfrejitd.json || \
		install -D -m 0644 rejit-daemon/bpfrejitd.json $(DESTDIR)/etc/bpfrejitd.json

selftests: tools
	@$(MAKE) -s -C selftests OUT=$(BUILD)/selftests \
		LIBBPF_INC=$(BUILD)/tools/libbpf-root/usr/include
	@selftests/corpus/build.sh $(BUILD)/selftests/corpus

unit-test: daemon
	@cd $(CMAKE_BUILD) && ctest --output-on-failure

# Tables, not tests. First the micro suite end to end (vm-scripts/bench.sh:
# images dumped in the VM, replayed on this CPU next to clang, host-kernel
# tier; build/bench/micro.json), BENCH_OBJS='a.bpf.o ...' adds objects to
# it. Then code size on the corpus and what re-JIT costs in the VM
# (vm-scripts/bench-costs.sh: BPF_PROG_REJIT vs BPF_PROG_LOAD, bpfrejitd's
# CPU use). Then the kinsn call forms on the host CPU, and in the VM
# test_kinsn_op (its last table: operand forms, pair vs plain sequence) and
# test_kinsn_mem (its last table: memory kinsns, vector vs scalar tier).
bench: all
	@BENCH_OBJS='$(BENCH_OBJS)' $(SCRIPTS)/bench.sh
	@$(SCRIPTS)/bench-costs.sh
	@printf '\n== kinsn call forms (host CPU) and operand forms (VM)\n'
	@$(CMAKE_BUILD)/tests/kinsn_bench
	@$(SCRIPTS)/vm-run.sh -- "$(BUILD)/selftests/test_kinsn_op $(BUILD)/kinsn && \
		$(BUILD)/selftests/test_kinsn_mem $(BUILD)/selftests/kinsn_mem.bpf.o $(BUILD)/kinsn"

vm-test: all
	@VM_APPEND="kmemleak=on $$VM_APPEND" $(SCRIPTS)/vm-run.sh --timeout 3600 -- \
		"TESTS='$(TESTS)' $(CURDIR)/selftests/run-vm-tests.sh"

# The same tree as a second, debug kernel (vm-scripts/kernel-debug.config on
# top of kernel.config: KASAN, lockdep, ...) in build/kernel-debug, with its
# modules in build/modroot-debug and its kinsn modules in build/kinsn-debug;
# user space is shared. test-debug runs the VM tests but bpf_jit and corpus
# on it and fails on any kernel splat (vm-scripts/test-debug.sh). Not part
# of "make test": it takes much longer.
kernel-debug: kernel-src
	@FLAVOUR=debug $(SCRIPTS)/build-kernel.sh

kinsn-debug: kernel-debug
	@FLAVOUR=debug $(SCRIPTS)/build-kinsn.sh

test-debug: daemon selftests kinsn-debug
	@TESTS='$(TESTS)' $(SCRIPTS)/test-debug.sh

# The Debian image with systemd as PID 1 (cached).
rootfs: deps
	@$(SCRIPTS)/make-rootfs.sh

# bpfrejitd as a systemd service: "make install" into the image, then boot it.
vm-test-systemd: all rootfs
	@$(MAKE) --no-print-directory install DESTDIR=$(BUILD)/rootfs
	@$(SCRIPTS)/vm-run.sh --systemd --timeout 900 -- \
		"PATH=/usr/local/sbin:/usr/local/bin:\$$PATH $(CURDIR)/selftests/systemd/test_service.sh"

# Unit tests first (fast failures), VM tests last: their closing line
# "N passed, N failed" is the last line of the run.
test: all
	@$(MAKE) --no-print-directory unit-test
	@$(MAKE) --no-print-directory vm-test-systemd
	@$(MAKE) --no-print-directory vm-test

run: all
	@$(SCRIPTS)/vm-run.sh -- $(CURDIR)/vm-scripts/demo.sh

vm-run: all
	@test -n "$(CMD)" || { echo "usage: make vm-run CMD='...'"; exit 2; }
	@$(SCRIPTS)/vm-run.sh -- "$(CMD)"

vm-shell: all
	@$(SCRIPTS)/vm-run.sh --shell

# The BPF_PROG_REJIT fuzzer alone (selftests/rejit/fuzz_rejit.c), N cases
# from SEED. The guest runs 300 to 1,000 cases a second under TCG, by the
# host's load; the timeout allows for half of FUZZ_RATE, plus the boot.
N ?= 100000
SEED ?= $(shell date +%s)
FUZZ_RATE := 400
# N and SEED are this target's, not the kernel's or CMake's sub-makes'
MAKEOVERRIDES := $(filter-out N=% SEED=%,$(MAKEOVERRIDES))
fuzz-kernel: all
	@$(SCRIPTS)/vm-run.sh --timeout $$(( 300 + 2 * $(N) / $(FUZZ_RATE) )) -- \
		"$(BUILD)/selftests/fuzz_rejit $(N) $(SEED)"

export-patches:
	@$(SCRIPTS)/export-patches.sh

# checkpatch + compile kernel/bpf, the x86 JIT and libbpf at every patch.
check-series: kernel-src
	@$(SCRIPTS)/check-series.sh

clean:
	rm -rf $(CMAKE_BUILD) $(BUILD)/selftests $(BUILD)/vm

# Also drops the kernel tree (its local commits are lost unless exported).
distclean:
	rm -rf $(BUILD)
