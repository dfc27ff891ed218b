// SPDX-License-Identifier: GPL-2.0
// Native replay of dumped JIT images (replay.hpp).
#include "bench/replay.hpp"

#include <capstone/capstone.h>
#include <dlfcn.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <csetjmp>
#include <cstring>
#include <ctime>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include <fmt/format.h>

namespace rejit::bench {
namespace {

constexpr size_t kPage = 4096;
constexpr size_t kXdpHeadroom = 256; // XDP_PACKET_HEADROOM
constexpr size_t kSkbHeadroom = 64;  // NET_SKB_PAD (x86: NET_IP_ALIGN 0)
constexpr size_t kEthHlen = 14;
constexpr size_t kSlot = 8;
constexpr size_t kTailroom = 320; // about skb_shared_info, past data_end
constexpr uint64_t kMaxSpread = 1ull << 30;
// Not in the UAPI (include/linux/filter.h): the off of a MOV64_REG that
// adds the CPU's per-CPU offset, and of an arena address-space cast.
constexpr int16_t kAddrPercpu = -1;
constexpr int16_t kAddrSpaceCast = 1;

size_t round_up(size_t v, size_t a) {
	return (v + a - 1) / a * a;
}

Error unsupported(std::string why) {
	return make_error(EOPNOTSUPP, std::move(why));
}

// An anonymous private mapping, unmapped when dropped.
class Mapping {
public:
	Mapping() = default;
	static Result<Mapping> make(size_t len) {
		void *p = mmap(nullptr, len, PROT_READ | PROT_WRITE,
		               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			return make_error(errno,
			                  fmt::format("mmap {} bytes: {}", len, strerror(errno)));
		Mapping m;
		m.p_ = static_cast<uint8_t *>(p);
		m.len_ = len;
		return m;
	}
	Mapping(Mapping &&o) noexcept : p_(std::exchange(o.p_, nullptr)), len_(o.len_) {}
	Mapping &operator=(Mapping &&o) noexcept {
		if (this != &o) {
			reset();
			p_ = std::exchange(o.p_, nullptr);
			len_ = o.len_;
		}
		return *this;
	}
	~Mapping() { reset(); }
	// The caller owns the pages now.
	uint8_t *release() { return std::exchange(p_, nullptr); }
	void reset() {
		if (p_)
			munmap(p_, len_);
		p_ = nullptr;
	}
	Result<void> protect(size_t off, size_t len, int prot) {
		if (mprotect(p_ + off, len, prot))
			return make_error(errno, fmt::format("mprotect: {}", strerror(errno)));
		return {};
	}
	[[nodiscard]] uint8_t *get() const { return p_; }
	[[nodiscard]] size_t size() const { return len_; }

private:
	uint8_t *p_ = nullptr;
	size_t len_ = 0;
};

template <typename T>
void put(uint8_t *base, uint32_t off, T v) {
	std::memcpy(base + off, &v, sizeof(v));
}

// skb->protocol as eth_type_trans() sets it (network byte order).
uint16_t eth_protocol(std::span<const uint8_t> frame) {
	if (frame.size() < kEthHlen)
		return 0;
	const uint16_t type = uint16_t(frame[12] << 8 | frame[13]);
	uint16_t proto;
	if (type >= 0x0600)
		proto = type;
	else if (frame.size() >= 16 && frame[14] == 0xff && frame[15] == 0xff)
		proto = 0x0001; // ETH_P_802_3
	else
		proto = 0x0004; // ETH_P_802_2
	return uint16_t(proto >> 8 | proto << 8);
}

Result<void> check_field(const char *what, uint32_t off, size_t len, uint32_t size) {
	if (size == 0 || off + len > size)
		return make_error(EINVAL, fmt::format("context layout: {} at {} outside a {}-byte "
		                                      "struct",
		                                      what, off, size));
	return {};
}

Result<void> check_layout(const CtxLayout &c, Kind k) {
	std::vector<std::tuple<const char *, uint32_t, size_t>> f;
	uint32_t size;
	if (k == Kind::xdp) {
		size = c.xdp_buff_size;
		f = {{"xdp_buff.data", c.xdp_data, 8},
		     {"xdp_buff.data_end", c.xdp_data_end, 8},
		     {"xdp_buff.data_meta", c.xdp_data_meta, 8},
		     {"xdp_buff.data_hard_start", c.xdp_data_hard_start, 8}};
	} else {
		size = c.skb_size;
		f = {{"sk_buff.data", c.skb_data, 8},
		     {"sk_buff.len", c.skb_len, 4},
		     {"sk_buff.data_len", c.skb_data_len, 4},
		     {"sk_buff.protocol", c.skb_protocol, 2},
		     {"sk_buff.cb data_end", c.skb_cb + c.cb_data_end, 8},
		     {"sk_buff.cb data_meta", c.skb_cb + c.cb_data_meta, 8},
		     {"sk_buff.cb[]", c.skb_cb + c.cb_bpf_cb, 20}};
	}
	for (auto &[what, off, len] : f)
		if (auto r = check_field(what, off, len, size); !r)
			return r;
	return {};
}

// ---- running an image under a guard ----------------------------------

struct Guard {
	sigjmp_buf jb;
	volatile sig_atomic_t active = 0;
	volatile int sig = 0;
	volatile uintptr_t rip = 0, addr = 0;
};
Guard g_guard;
constexpr std::array kGuardSignals = {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGALRM};
constexpr unsigned kRunTimeoutSec = 2;

void on_guard_signal(int sig, siginfo_t *si, void *uc) {
	if (!g_guard.active) {
		// Not the image: our own bug. Let it kill us as it would have.
		if (sig != SIGALRM)
			signal(sig, SIG_DFL);
		return;
	}
	g_guard.active = 0;
	g_guard.sig = sig;
	g_guard.addr = reinterpret_cast<uintptr_t>(si->si_addr);
	g_guard.rip = uintptr_t(static_cast<ucontext_t *>(uc)->uc_mcontext.gregs[REG_RIP]);
	siglongjmp(g_guard.jb, 1);
}

// Handlers, an alternate stack (the image may have wrecked rsp) and a
// watchdog while it lives; the previous ones come back after.
class GuardScope {
public:
	GuardScope() {
		static std::vector<uint8_t> stack(64 * 1024);
		stack_t ss{};
		ss.ss_sp = stack.data();
		ss.ss_size = stack.size();
		sigaltstack(&ss, &old_ss_);
		struct sigaction sa {};
		sa.sa_sigaction = on_guard_signal;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
		sigemptyset(&sa.sa_mask);
		for (size_t i = 0; i < kGuardSignals.size(); i++)
			sigaction(kGuardSignals[i], &sa, &old_[i]);
		itimerval t{};
		t.it_value.tv_sec = kRunTimeoutSec;
		setitimer(ITIMER_REAL, &t, &old_timer_);
	}
	~GuardScope() {
		itimerval t{};
		setitimer(ITIMER_REAL, &t, nullptr);
		for (size_t i = 0; i < kGuardSignals.size(); i++)
			sigaction(kGuardSignals[i], &old_[i], nullptr);
		sigaltstack(&old_ss_, nullptr);
		if (old_timer_.it_value.tv_sec || old_timer_.it_value.tv_usec)
			setitimer(ITIMER_REAL, &old_timer_, nullptr);
	}
	GuardScope(const GuardScope &) = delete;
	GuardScope &operator=(const GuardScope &) = delete;

private:
	std::array<struct sigaction, kGuardSignals.size()> old_{};
	stack_t old_ss_{};
	itimerval old_timer_{};
};

// 0: returned (*ret), else the signal that stopped it.
__attribute__((noinline)) int guarded_call(Replay::Fn fn, void *ctx, uint64_t *ret) {
	if (sigsetjmp(g_guard.jb, 1))
		return g_guard.sig;
	g_guard.sig = 0;
	g_guard.active = 1;
	const uint64_t r = fn(ctx, nullptr);
	g_guard.active = 0;
	*ret = r;
	return 0;
}

// ---- kernel symbols ---------------------------------------------------

// All names kallsyms has at exactly addr.
std::vector<std::string_view> names_at(const Dump &d, uint64_t addr) {
	std::vector<std::string_view> out;
	auto it = std::lower_bound(d.kallsyms.begin(), d.kallsyms.end(), addr,
	                           [](const auto &s, uint64_t a) { return s.first < a; });
	for (; it != d.kallsyms.end() && it->first == addr; ++it)
		out.push_back(it->second);
	return out;
}

// "bpf_map_lookup_elem", "foo+0x12" or the address.
std::string describe(const Dump &d, uint64_t addr) {
	const auto s = d.symbol(addr);
	if (!s)
		return fmt::format("{:#x}", addr);
	if (!s->second)
		return s->first;
	return fmt::format("{}+{:#x}", s->first, s->second);
}

bool is_return_thunk(std::string_view n) {
	static constexpr std::string_view names[] = {"__x86_return_thunk",
	                                             "srso_return_thunk",
	                                             "srso_alias_return_thunk",
	                                             "retbleed_return_thunk",
	                                             "call_depth_return_thunk",
	                                             "its_return_thunk",
	                                             "__ret",
	                                             "zen_return_thunk",
	                                             "zen_untrain_ret"};
	return std::find(std::begin(names), std::end(names), n) != std::end(names);
}

// The register of an indirect-branch thunk (__x86_indirect_thunk_rax ...).
std::optional<unsigned> indirect_thunk_reg(std::string_view n) {
	static constexpr std::string_view prefixes[] = {
	        "__x86_indirect_thunk_", "__x86_indirect_jump_thunk_", "__x86_indirect_its_thunk_",
	        "__x86_indirect_call_thunk_"};
	static constexpr std::string_view regs[] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp",
	                                            "rsi", "rdi", "r8",  "r9",  "r10", "r11",
	                                            "r12", "r13", "r14", "r15"};
	for (auto p : prefixes) {
		if (!n.starts_with(p))
			continue;
		auto r = n.substr(p.size());
		for (unsigned i = 0; i < 16; i++)
			if (r == regs[i])
				return i;
	}
	return std::nullopt;
}

// ---- the ld_imm64 the JIT turns into movabs ---------------------------

struct Movabs {
	uint8_t *imm; // in the host copy
	uint64_t value;
	uint64_t kaddr; // where it was in the kernel
};

// What a movabs of the code must be, in program order.
struct Expect {
	size_t insn;
	uint64_t value = 0;           // a plain constant
	const MapDump *map = nullptr; // a map value: map + off
	uint32_t off = 0;
};

const MapDump *find_map(const ProgDump &p, uint32_t id) {
	for (auto &m : p.maps)
		if (m.id == id)
			return &m;
	return nullptr;
}

bool replayable_map(const MapDump &m) {
	return m.frozen && m.type == BPF_MAP_TYPE_ARRAY && m.max_entries == 1 &&
	       m.value.size() == m.value_size && m.value_size > 0;
}

bool is_uimm32(uint64_t v) {
	return v <= UINT32_MAX;
}
bool is_simm32(uint64_t v) {
	return int64_t(v) == int64_t(int32_t(uint32_t(v)));
}

void expectations(const ProgDump &p, const Image &img, std::vector<Expect> &out,
                  std::set<std::string> &why) {
	const auto &x = img.xlated;
	for (size_t i = 0; i < x.size(); i++) {
		const bpf_insn &in = x[i];
		if (in.code == (BPF_ALU64 | BPF_MOV | BPF_X) && in.off == kAddrPercpu)
			why.insert("uses a per-CPU address");
		if (in.code == (BPF_ALU64 | BPF_MOV | BPF_X) && in.off == kAddrSpaceCast)
			why.insert("uses an arena");
		if (in.code == (BPF_JMP | BPF_CALL) && in.src_reg == 0 &&
		    in.imm == BPF_FUNC_tail_call)
			why.insert("makes tail calls");
		if (in.code != (BPF_LD | BPF_IMM | BPF_DW))
			continue;
		if (i + 1 >= x.size()) {
			why.insert("xlated program ends inside a ld_imm64");
			break;
		}
		const uint64_t v = uint64_t(uint32_t(x[i + 1].imm)) << 32 | uint32_t(in.imm);
		switch (in.src_reg) {
		case 0:
			if (!is_uimm32(v) && !is_simm32(v))
				out.push_back({i, v});
			break;
		case BPF_PSEUDO_MAP_VALUE: {
			const MapDump *m = find_map(p, uint32_t(in.imm));
			if (!m)
				why.insert(
				        fmt::format("reads map id {} (not in the dump)", in.imm));
			else if (!replayable_map(*m))
				why.insert(fmt::format("reads map {} through a kernel address",
				                       m->name));
			else if (uint32_t(x[i + 1].imm) >= m->value_size)
				why.insert(fmt::format("reads map {} at {} past its value", m->name,
				                       x[i + 1].imm));
			out.push_back({i, 0, m, uint32_t(x[i + 1].imm)});
			break;
		}
		case BPF_PSEUDO_MAP_FD: {
			const MapDump *m = find_map(p, uint32_t(in.imm));
			why.insert(fmt::format("accesses map {} through a kernel address",
			                       m ? m->name : std::to_string(in.imm)));
			out.push_back({i});
			break;
		}
		case BPF_PSEUDO_FUNC:
			why.insert("takes the address of a function");
			out.push_back({i});
			break;
		default:
			why.insert(fmt::format("ld_imm64 with src_reg {}", in.src_reg));
			out.push_back({i});
		}
		i++;
	}
}

// The x86 multi-byte nops (Intel SDM), to fill patched-out bytes.
void fill_nops(uint8_t *p, size_t n) {
	static const uint8_t nops[][9] = {{0x90},
	                                  {0x66, 0x90},
	                                  {0x0f, 0x1f, 0x00},
	                                  {0x0f, 0x1f, 0x40, 0x00},
	                                  {0x0f, 0x1f, 0x44, 0x00, 0x00},
	                                  {0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
	                                  {0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00},
	                                  {0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
	                                  {0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00}};
	while (n) {
		const size_t k = std::min<size_t>(n, 9);
		std::memcpy(p, nops[k - 1], k);
		p += k;
		n -= k;
	}
}

struct Capstone {
	csh h = 0;
	Capstone() = default;
	Capstone(const Capstone &) = delete;
	Capstone &operator=(const Capstone &) = delete;
	~Capstone() {
		if (h)
			cs_close(&h);
	}
};

const uint8_t kEndbr64[] = {0xf3, 0x0f, 0x1e, 0xfa};
const uint8_t kNop5[] = {0x0f, 0x1f, 0x44, 0x00, 0x00};

} // namespace

// ---- Packets ----------------------------------------------------------

Result<Packets> Packets::make(const CtxLayout &ctx, Kind kind,
                              const std::vector<std::vector<uint8_t>> &inputs, bool like_test_run) {
	if (auto r = check_layout(ctx, kind); !r)
		return r.error();
	if (inputs.empty())
		return make_error(EINVAL, "no inputs");
	const size_t ctx_size = kind == Kind::xdp ? ctx.xdp_buff_size : ctx.skb_size;
	const size_t ctx_area = round_up(ctx_size, 64);
	const size_t headroom = kind == Kind::xdp ? kXdpHeadroom : kSkbHeadroom;
	size_t max_wire = 0;
	for (auto &in : inputs)
		max_wire = std::max(max_wire, test_packet(kind, in).size());
	// [ctx][headroom][wire packet][tailroom] per input, page-aligned, and
	// a guard page at the end.
	const size_t stride = round_up(ctx_area + headroom + max_wire + kTailroom, kPage);
	const size_t len = stride * inputs.size() + kPage;
	auto m = Mapping::make(len);
	if (!m)
		return m.error();
	if (auto r = m->protect(len - kPage, kPage, PROT_NONE); !r)
		return r.error();
	Packets pk;
	pk.layout_ = ctx;
	pk.kind_ = kind;
	pk.len_ = len;
	for (size_t i = 0; i < inputs.size(); i++) {
		uint8_t *base = m->get() + i * stride;
		uint8_t *head = base + ctx_area;
		const auto wire = test_packet(kind, inputs[i]);
		std::memcpy(head + headroom, wire.data(), wire.size());
		uint8_t *data = head + headroom + slot_offset(kind);
		uint8_t *end = head + headroom + wire.size();
		if (kind == Kind::xdp) {
			put(base, ctx.xdp_data, data);
			put(base, ctx.xdp_data_end, end);
			put(base, ctx.xdp_data_meta, data);
			put(base, ctx.xdp_data_hard_start, head);
		} else {
			put(base, ctx.skb_data, data);
			put(base, ctx.skb_len, uint32_t(end - data));
			put(base, ctx.skb_data_len, uint32_t(0));
			put(base, ctx.skb_protocol, eth_protocol(wire));
			const bool no_end = like_test_run && kind == Kind::cgroup_skb;
			put(base, ctx.skb_cb + ctx.cb_data_end, no_end ? nullptr : end);
			put(base, ctx.skb_cb + ctx.cb_data_meta, data);
		}
		pk.slots_.push_back({base, data, end});
	}
	pk.mem_ = m->release();
	return pk;
}

Packets::Packets(Packets &&o) noexcept
    : layout_(o.layout_), kind_(o.kind_), mem_(std::exchange(o.mem_, nullptr)), len_(o.len_),
      slots_(std::move(o.slots_)) {}

Packets &Packets::operator=(Packets &&o) noexcept {
	if (this != &o) {
		if (mem_)
			munmap(mem_, len_);
		layout_ = o.layout_;
		kind_ = o.kind_;
		mem_ = std::exchange(o.mem_, nullptr);
		len_ = o.len_;
		slots_ = std::move(o.slots_);
	}
	return *this;
}

Packets::~Packets() {
	if (mem_)
		munmap(mem_, len_);
}

void Packets::reset(size_t i) {
	std::memset(slots_[i].data, 0, kSlot);
	if (kind_ != Kind::xdp)
		std::memset(static_cast<uint8_t *>(slots_[i].ctx) + layout_.skb_cb +
		                    layout_.cb_bpf_cb,
		            0, 20);
}

RunResult Packets::result(size_t i, uint32_t retval) const {
	RunResult r{retval, 0};
	if (kind_ == Kind::xdp) {
		std::memcpy(&r.result, slots_[i].data, kSlot);
	} else {
		uint32_t cb[2];
		std::memcpy(cb,
		            static_cast<const uint8_t *>(slots_[i].ctx) + layout_.skb_cb +
		                    layout_.cb_bpf_cb,
		            sizeof(cb));
		r.result = uint64_t(cb[1]) << 32 | cb[0];
	}
	return r;
}

// ---- Replay -----------------------------------------------------------

struct Replay::Mem {
	Mapping code;                // the functions at their relative layout [+ redirect stub]
	Mapping rodata;              // read-only copies of frozen map values
	uint8_t *block = nullptr;    // where the lowest function starts
	std::vector<uint64_t> kaddr; // per function, as in the kernel
	std::vector<uint8_t *> host; // per function, here
	std::vector<uint32_t> len;
	uint8_t *stub = nullptr;
	size_t stub_len = 0;

	// "func 1+0x1c" for a host address.
	[[nodiscard]] std::string where(uintptr_t a) const {
		for (size_t j = 0; j < host.size(); j++) {
			auto h = reinterpret_cast<uintptr_t>(host[j]);
			if (a >= h && a < h + len[j])
				return fmt::format("image+{:#x} (func {}+{:#x})",
				                   a - reinterpret_cast<uintptr_t>(host[0]), j,
				                   a - h);
		}
		auto s = reinterpret_cast<uintptr_t>(stub);
		if (stub && a >= s && a < s + stub_len)
			return fmt::format("redirect stub+{:#x}", a - s);
		return fmt::format("{:#x} (outside the image)", a);
	}
};

Replay::Replay(Replay &&) noexcept = default;
Replay &Replay::operator=(Replay &&) noexcept = default;
Replay::~Replay() = default;

Result<Replay> Replay::make(const Dump &d, const ProgDump &p, const Image &img, unsigned align,
                            const Image *redirect_from) {
	const size_t nf = img.func_addrs.size();
	if (nf == 0 || nf != img.func_lens.size())
		return make_error(EINVAL, fmt::format("{}: {} function addresses for {} lengths",
		                                      p.name, nf, img.func_lens.size()));
	size_t total = 0;
	for (auto l : img.func_lens)
		total += l;
	if (total != img.code.size())
		return make_error(EINVAL, fmt::format("{}: function lengths add up to {}, the "
		                                      "image has {} bytes",
		                                      p.name, total, img.code.size()));
	if (align >= 64)
		return make_error(EINVAL, fmt::format("alignment {} is not below 64", align));
	// Layout: the functions where the kernel had them, relative to the lowest.
	uint64_t lo = UINT64_MAX, hi = 0;
	for (size_t j = 0; j < nf; j++) {
		lo = std::min(lo, img.func_addrs[j]);
		hi = std::max(hi, img.func_addrs[j] + img.func_lens[j]);
	}
	if (hi - lo > kMaxSpread)
		return unsupported(fmt::format("functions spread over {} MiB", (hi - lo) >> 20));
	{
		std::vector<std::pair<uint64_t, uint32_t>> f;
		for (size_t j = 0; j < nf; j++)
			f.emplace_back(img.func_addrs[j], img.func_lens[j]);
		std::sort(f.begin(), f.end());
		for (size_t j = 1; j < f.size(); j++)
			if (f[j - 1].first + f[j - 1].second > f[j].first)
				return make_error(EINVAL,
				                  fmt::format("{}: functions overlap at {:#x}",
				                              p.name, f[j].first));
	}

	auto mem = std::make_unique<Mem>();
	const uint64_t entry_off = img.func_addrs[0] - lo;
	const size_t pad = (align + 64 - entry_off % 64) % 64;
	const size_t block_len = round_up(pad + (hi - lo), kPage);
	const size_t stub_area = redirect_from ? kPage : 0;
	auto code = Mapping::make(block_len + stub_area);
	if (!code)
		return code.error();
	mem->code = std::move(*code);
	mem->block = mem->code.get() + pad;
	// int3 around the functions, on the pages they touch (the rest of a
	// wide spread stays untouched: zero pages, never allocated).
	auto int3_pages = [&](uint8_t *from, size_t len) {
		const size_t a = (from - mem->code.get()) / kPage * kPage;
		const size_t b = round_up(from + len - mem->code.get(), kPage);
		std::memset(mem->code.get() + a, 0xcc, b - a);
	};
	for (size_t j = 0; j < nf; j++)
		int3_pages(mem->block + (img.func_addrs[j] - lo), img.func_lens[j]);
	size_t off = 0;
	for (size_t j = 0; j < nf; j++) {
		uint8_t *h = mem->block + (img.func_addrs[j] - lo);
		std::memcpy(h, img.code.data() + off, img.func_lens[j]);
		mem->kaddr.push_back(img.func_addrs[j]);
		mem->host.push_back(h);
		mem->len.push_back(img.func_lens[j]);
		off += img.func_lens[j];
	}
	auto in_image = [&](uint64_t a) {
		for (size_t j = 0; j < nf; j++)
			if (a >= img.func_addrs[j] && a < img.func_addrs[j] + img.func_lens[j])
				return true;
		return false;
	};

	std::set<std::string> why;
	std::vector<Movabs> movabs;
	std::map<std::string, unsigned> patched;
	Capstone cs;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs.h) != CS_ERR_OK)
		return make_error(EIO, "capstone: cannot open an x86-64 decoder");
	cs_option(cs.h, CS_OPT_DETAIL, CS_OPT_ON);
	cs_insn *insn = cs_malloc(cs.h);
	std::unique_ptr<cs_insn, void (*)(cs_insn *)> insn_owner(insn,
	                                                         [](cs_insn *i) { cs_free(i, 1); });
	off = 0;
	for (size_t j = 0; j < nf && why.empty(); j++) {
		const uint8_t *bytes = img.code.data() + off;
		size_t left = img.func_lens[j];
		uint64_t addr = img.func_addrs[j];
		uint8_t *host = mem->host[j];
		off += img.func_lens[j];
		while (left) {
			const uint64_t at = addr;
			if (!cs_disasm_iter(cs.h, &bytes, &left, &addr, insn)) {
				why.insert(fmt::format("cannot decode the code at func {}+{:#x}", j,
				                       at - img.func_addrs[j]));
				break;
			}
			uint8_t *hp = host + (at - img.func_addrs[j]);
			const cs_x86 &x = insn->detail->x86;
			const bool jump = cs_insn_group(cs.h, insn, CS_GRP_JUMP);
			const bool call = cs_insn_group(cs.h, insn, CS_GRP_CALL);
			if ((jump || call) && x.op_count == 1 && x.operands[0].type == X86_OP_IMM) {
				const uint64_t t = uint64_t(x.operands[0].imm);
				if (in_image(t))
					continue; // rel32 within the layout: stays valid
				const auto names = names_at(d, t);
				const bool e9 = insn->size == 5 && insn->bytes[0] == 0xe9;
				const bool e8 = insn->size == 5 && insn->bytes[0] == 0xe8;
				bool done = false;
				for (auto n : names) {
					if (e9 && is_return_thunk(n)) {
						hp[0] = 0xc3; // ret; int3 as the JIT pads a ret
						std::memset(hp + 1, 0xcc, 4);
						patched["return thunk"]++;
						done = true;
					} else if (auto r = indirect_thunk_reg(n);
					           r && (e8 || e9)) {
						size_t k = 0;
						if (*r >= 8)
							hp[k++] = 0x41;
						hp[k++] = 0xff;
						hp[k++] = uint8_t((e9 ? 0xe0 : 0xd0) + (*r & 7));
						if (e9)
							std::memset(hp + k, 0xcc, 5 - k);
						else
							fill_nops(hp + k, 5 - k);
						patched["retpoline"]++;
						done = true;
					}
					if (done)
						break;
				}
				if (!done)
					why.insert(fmt::format("{} {}", call ? "calls" : "jumps to",
					                       describe(d, t)));
				continue;
			}
			if (jump || call) {
				why.insert(fmt::format("has an indirect {} ({} {})",
				                       call ? "call" : "jump", insn->mnemonic,
				                       insn->op_str));
				continue;
			}
			if (x.prefix[1] == X86_PREFIX_GS || x.prefix[1] == X86_PREFIX_FS) {
				// Call-depth accounting: sarq $5, %gs:pcpu_hot.call_depth
				if (insn->id == X86_INS_SAR && x.op_count == 2 &&
				    x.operands[0].type == X86_OP_MEM &&
				    x.operands[1].type == X86_OP_IMM && x.operands[1].imm == 5) {
					fill_nops(hp, insn->size);
					patched["call depth accounting"]++;
				} else {
					why.insert(fmt::format("makes a per-CPU access ({} {})",
					                       insn->mnemonic, insn->op_str));
				}
				continue;
			}
			bool rip = false;
			for (unsigned k = 0; k < x.op_count; k++)
				if (x.operands[k].type == X86_OP_MEM &&
				    x.operands[k].mem.base == X86_REG_RIP)
					rip = true;
			if (rip) {
				why.insert(
				        fmt::format("addresses kernel memory RIP-relative ({} {})",
				                    insn->mnemonic, insn->op_str));
				continue;
			}
			// movabs r64, imm64: REX.W (+B) B8+r imm64
			if (insn->size == 10 && (insn->bytes[0] & 0xfe) == 0x48 &&
			    (insn->bytes[1] & 0xf8) == 0xb8) {
				uint64_t v;
				std::memcpy(&v, insn->bytes + 2, 8);
				movabs.push_back({hp + 2, v, at});
			}
		}
	}

	// Every ld_imm64 that needs a movabs, in order, against the movabs found.
	std::vector<Expect> expect;
	if (why.empty())
		expectations(p, img, expect, why);
	if (why.empty() && expect.size() != movabs.size())
		why.insert(fmt::format("{} movabs in the code for {} 64-bit loads in the xlated "
		                       "program",
		                       movabs.size(), expect.size()));
	for (size_t k = 0; why.empty() && k < expect.size(); k++)
		if (!expect[k].map && movabs[k].value != expect[k].value)
			why.insert(fmt::format("movabs {:#x} at {:#x} where insn {} loads {:#x}",
			                       movabs[k].value, movabs[k].kaddr, expect[k].insn,
			                       expect[k].value));
	if (!why.empty()) {
		std::string s;
		for (auto &w : why)
			s += (s.empty() ? "" : ", ") + w;
		return unsupported(s);
	}

	// Read-only copies of the frozen values the code reads.
	std::map<const MapDump *, size_t> copies;
	size_t ro_len = 0;
	for (auto &e : expect)
		if (e.map && !copies.count(e.map)) {
			copies[e.map] = ro_len;
			ro_len += round_up(e.map->value_size, 64);
		}
	if (ro_len) {
		auto ro = Mapping::make(round_up(ro_len, kPage));
		if (!ro)
			return ro.error();
		mem->rodata = std::move(*ro);
		for (auto &[m, o] : copies)
			std::memcpy(mem->rodata.get() + o, m->value.data(), m->value_size);
		if (auto r = mem->rodata.protect(0, mem->rodata.size(), PROT_READ); !r)
			return r.error();
		for (size_t k = 0; k < expect.size(); k++) {
			if (!expect[k].map)
				continue;
			const uint64_t a = reinterpret_cast<uint64_t>(mem->rodata.get() +
			                                              copies[expect[k].map]) +
			                   expect[k].off;
			std::memcpy(movabs[k].imm, &a, 8);
			patched["map value"]++;
		}
	}

	Replay r;
	r.entry_ = reinterpret_cast<Fn>(mem->host[0]);
	if (redirect_from) {
		// The stock entry up to its redirect nop, that nop a jmp to the
		// same offset of this image (bpf_arch_rejit_redirect()).
		const auto &s = redirect_from->code;
		const size_t site =
		        5 + (s.size() >= 4 && !std::memcmp(s.data(), kEndbr64, 4) ? 4 : 0);
		if (s.size() < site + 5 || std::memcmp(s.data() + site, kNop5, 5))
			return unsupported(
			        fmt::format("the stock image has no redirect nop at +{:#x}", site));
		if (img.code.size() < site + 5)
			return unsupported("the re-JIT image is shorter than the redirect site");
		uint8_t *stub = mem->code.get() + block_len + align;
		int3_pages(stub, site + 5);
		std::memcpy(stub, s.data(), site);
		const int64_t rel = (mem->host[0] + site) - (stub + site + 5);
		stub[site] = 0xe9;
		const int32_t rel32 = int32_t(rel);
		std::memcpy(stub + site + 1, &rel32, 4);
		mem->stub = stub;
		mem->stub_len = site + 5;
		r.entry_ = reinterpret_cast<Fn>(stub);
		patched["redirect"]++;
	}
	if (auto pr = mem->code.protect(0, mem->code.size(), PROT_READ | PROT_EXEC); !pr)
		return pr.error();
	for (auto &[what, n] : patched)
		r.patched_ += fmt::format("{}{} {}{}", r.patched_.empty() ? "" : ", ", n, what,
		                          n > 1 && what != "call depth accounting" ? "s" : "");
	r.mem_ = std::move(mem);
	r.kind_ = p.kind;
	r.ctx_ = d.ctx;
	return r;
}

Result<RunResult> Replay::run(std::span<const uint8_t> input) {
	auto pk = Packets::make(ctx_, kind_, {std::vector<uint8_t>(input.begin(), input.end())});
	if (!pk)
		return pk.error();
	return run(*pk, 0);
}

Result<RunResult> Replay::run(Packets &pk, size_t i) {
	if (pk.kind() != kind_)
		return make_error(EINVAL, "packets of another program type");
	pk.reset(i);
	uint64_t ret = 0;
	int sig;
	{
		GuardScope g;
		sig = guarded_call(entry_, pk.ctx(i), &ret);
	}
	if (sig == SIGALRM)
		return make_error(ETIMEDOUT,
		                  fmt::format("did not return within {} s", kRunTimeoutSec));
	if (sig == SIGSEGV || sig == SIGBUS)
		return make_error(EFAULT,
		                  fmt::format("SIG{} at {} accessing {:#x}", sigabbrev_np(sig),
		                              mem_->where(g_guard.rip), g_guard.addr));
	if (sig)
		return make_error(EFAULT, fmt::format("SIG{} at {}", sigabbrev_np(sig),
		                                      mem_->where(g_guard.rip)));
	return pk.result(i, uint32_t(ret));
}

// ---- NativeLib --------------------------------------------------------

namespace {
// bench/micro/bench.h's struct bench_native (not included: its typedefs
// clash with linux/types.h in C++).
struct bench_native_c {
	const char *name;
	int type; // enum bench_type: xdp, tc, cgroup_skb
	int (*run)(uint8_t *data, uint8_t *data_end);
	uint32_t (*input)(uint8_t *buf, uint32_t cap, uint32_t k);
};
using bench_natives_fn = const bench_native_c *(*)(size_t *n);
} // namespace

Result<NativeLib> NativeLib::open(const std::string &so) {
	void *h = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return make_error(ENOENT, fmt::format("dlopen {}: {}", so, dlerror()));
	NativeLib lib;
	lib.handle_ = h;
	auto index = reinterpret_cast<bench_natives_fn>(dlsym(h, "bench_natives"));
	if (!index)
		return make_error(ENOENT, fmt::format("{}: no bench_natives()", so));
	size_t n = 0;
	const bench_native_c *b = index(&n);
	for (size_t i = 0; i < n; i++) {
		if (b[i].type < 0 || b[i].type > 2 || !b[i].name || !b[i].run)
			return make_error(EINVAL,
			                  fmt::format("{}: bad entry {} in bench_natives", so, i));
		lib.benches_.push_back({b[i].name, Kind(b[i].type), b[i].run});
	}
	return lib;
}

NativeLib::NativeLib(NativeLib &&o) noexcept
    : handle_(std::exchange(o.handle_, nullptr)), benches_(std::move(o.benches_)) {}

NativeLib &NativeLib::operator=(NativeLib &&o) noexcept {
	if (this != &o) {
		if (handle_)
			dlclose(handle_);
		handle_ = std::exchange(o.handle_, nullptr);
		benches_ = std::move(o.benches_);
	}
	return *this;
}

NativeLib::~NativeLib() {
	if (handle_)
		dlclose(handle_);
}

const NativeLib::Bench *NativeLib::find(const std::string &name) const {
	for (auto &b : benches_)
		if (b.name == name)
			return &b;
	return nullptr;
}

RunResult NativeLib::run(const Bench &b, std::span<const uint8_t> input) {
	std::vector<uint8_t> buf(kSlot + input.size());
	std::copy(input.begin(), input.end(), buf.begin() + kSlot);
	RunResult r;
	r.retval = uint32_t(b.run(buf.data(), buf.data() + buf.size()));
	std::memcpy(&r.result, buf.data(), kSlot);
	return r;
}

// ---- timing -----------------------------------------------------------

namespace {

double now_ns() {
	timespec t;
	clock_gettime(CLOCK_MONOTONIC_RAW, &t);
	return double(t.tv_sec) * 1e9 + double(t.tv_nsec);
}

uint64_t g_sink; // results go here so no call is optimised away

__attribute__((noinline)) double time_jit(Replay::Fn f, void *const *ctx, size_t n,
                                          unsigned calls) {
	uint64_t acc = 0;
	size_t k = 0;
	const double t0 = now_ns();
	for (unsigned c = 0; c < calls; c++) {
		acc += f(ctx[k], nullptr);
		if (++k == n)
			k = 0;
	}
	const double t1 = now_ns();
	g_sink += acc;
	return (t1 - t0) / calls;
}

__attribute__((noinline)) double time_native(NativeLib::Fn f, uint8_t *const *data,
                                             uint8_t *const *end, size_t n, unsigned calls) {
	uint64_t acc = 0;
	size_t k = 0;
	const double t0 = now_ns();
	for (unsigned c = 0; c < calls; c++) {
		acc += uint64_t(f(data[k], end[k]));
		if (++k == n)
			k = 0;
	}
	const double t1 = now_ns();
	g_sink += acc;
	return (t1 - t0) / calls;
}

double median(std::vector<double> v) {
	if (v.empty())
		return NAN;
	std::sort(v.begin(), v.end());
	const size_t n = v.size();
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Pins the thread to the CPU it is on while it lives.
class Pin {
public:
	Pin() {
		ok_ = sched_getaffinity(0, sizeof(old_), &old_) == 0;
		cpu_set_t s;
		CPU_ZERO(&s);
		CPU_SET(sched_getcpu(), &s);
		pinned_ = sched_setaffinity(0, sizeof(s), &s) == 0;
	}
	~Pin() {
		if (ok_ && pinned_)
			sched_setaffinity(0, sizeof(old_), &old_);
	}
	Pin(const Pin &) = delete;
	Pin &operator=(const Pin &) = delete;

private:
	cpu_set_t old_{};
	bool ok_ = false, pinned_ = false;
};

} // namespace

Result<Timing> time_replay(const Dump &d, const ProgDump &p, const NativeLib *native,
                           const TimingOptions &opt) {
	if (p.inputs.empty())
		return make_error(EINVAL, fmt::format("{}: no inputs", p.name));
	if (opt.aligns.empty() || opt.samples == 0)
		return make_error(EINVAL, "no alignments or no samples to time");
	const NativeLib::Bench *nb = native ? native->find(p.name) : nullptr;
	auto pk = Packets::make(d.ctx, p.kind, p.inputs);
	if (!pk)
		return pk.error();
	const size_t n = pk->size();
	std::vector<void *> ctx(n);
	std::vector<uint8_t *> data(n), end(n);
	for (size_t i = 0; i < n; i++) {
		ctx[i] = pk->ctx(i);
		data[i] = pk->data(i);
		end[i] = pk->data_end(i);
	}
	Pin pin;

	struct Aligned {
		Replay stock, rejit;
	};
	std::vector<Aligned> imgs;
	for (unsigned a : opt.aligns) {
		auto s = Replay::make(d, p, p.stock, a);
		if (!s)
			return make_error(s.error().err, fmt::format("stock: {}", s.error().msg));
		// Callers reach re-JITed code through the stock entry's redirect;
		// a program the daemon left alone (no pass fired, or the kernel
		// refused the new code) still runs its stock image, directly.
		const bool rejited = !p.passes.empty() && p.rejit_error.empty();
		auto r = Replay::make(d, p, p.rejit, a, rejited ? &p.stock : nullptr);
		if (!r)
			return make_error(r.error().err, fmt::format("re-JIT: {}", r.error().msg));
		// Every image runs every input under the guard before it is timed.
		for (size_t i = 0; i < n; i++) {
			if (auto x = s->run(*pk, i); !x)
				return make_error(x.error().err, fmt::format("stock, input {}: {}",
				                                             i, x.error().msg));
			if (auto x = r->run(*pk, i); !x)
				return make_error(x.error().err, fmt::format("re-JIT, input {}: {}",
				                                             i, x.error().msg));
		}
		imgs.push_back({std::move(*s), std::move(*r)});
	}

	// Calls per sample: about sample_ms for the slowest of the images.
	unsigned calls = opt.calls;
	if (!calls) {
		auto probe = [&](auto &&f) {
			unsigned c = unsigned(n);
			double t = f(c);
			while (t * c < 2e5 && c < (1u << 28)) { // 0.2 ms
				c *= 4;
				t = f(c);
			}
			return f(c); // warm now
		};
		double ns = probe([&](unsigned c) {
			return time_jit(imgs[0].stock.entry(), ctx.data(), n, c);
		});
		ns = std::max(ns, probe([&](unsigned c) {
			              return time_jit(imgs[0].rejit.entry(), ctx.data(), n, c);
		              }));
		if (nb)
			ns = std::max(ns, probe([&](unsigned c) {
				              return time_native(nb->run, data.data(), end.data(),
				                                 n, c);
			              }));
		calls = unsigned(
		        std::clamp(opt.sample_ms * 1e6 / std::max(ns, 0.1), double(n), 1e9));
	}

	std::vector<double> ns_s, ns_r, ns_n, ratio, ratio_n;
	for (auto &im : imgs) {
		// Warm up this alignment's mappings.
		time_jit(im.stock.entry(), ctx.data(), n, calls / 4 + 1);
		time_jit(im.rejit.entry(), ctx.data(), n, calls / 4 + 1);
		std::vector<double> s_s, s_r, s_n, s_ratio, s_ratio_n;
		const unsigned m = nb ? 3 : 2;
		for (unsigned k = 0; k < opt.samples; k++) {
			double t[3] = {NAN, NAN, NAN};
			for (unsigned o = 0; o < m; o++) { // rotate the order per sample
				const unsigned which = (o + k) % m;
				if (which == 0)
					t[0] = time_jit(im.stock.entry(), ctx.data(), n, calls);
				else if (which == 1)
					t[1] = time_jit(im.rejit.entry(), ctx.data(), n, calls);
				else
					t[2] = time_native(nb->run, data.data(), end.data(), n,
					                   calls);
			}
			s_s.push_back(t[0]);
			s_r.push_back(t[1]);
			s_ratio.push_back(t[0] / t[1]);
			if (nb) {
				s_n.push_back(t[2]);
				s_ratio_n.push_back(t[1] / t[2]);
			}
		}
		ns_s.push_back(median(s_s));
		ns_r.push_back(median(s_r));
		ratio.push_back(median(s_ratio));
		if (nb) {
			ns_n.push_back(median(s_n));
			ratio_n.push_back(median(s_ratio_n));
		}
	}
	Timing tm;
	tm.ns_stock = median(ns_s);
	tm.ns_rejit = median(ns_r);
	tm.ns_native = median(ns_n);
	tm.ratio = median(ratio);
	tm.ratio_lo = *std::min_element(ratio.begin(), ratio.end());
	tm.ratio_hi = *std::max_element(ratio.begin(), ratio.end());
	tm.ratio_native = median(ratio_n);
	return tm;
}

} // namespace rejit::bench
