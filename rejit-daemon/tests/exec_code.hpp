// SPDX-License-Identifier: GPL-2.0
// Executable copies of x86-64 code for the host-CPU kinsn tests and
// benchmark. The code follows the SysV convention (args rdi, rsi, rdx;
// result rax), so the bytes plus `ret` are called as a function.
#pragma once

#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <span>

#include "kinsn_defs.h"

namespace rejit::test {

using Native = uint64_t (*)(uint64_t, uint64_t, uint64_t);

// An executable copy of some code followed by `ret`.
class Code {
public:
	explicit Code(const kinsn_def &d) : Code(std::span<const uint8_t>(d.x86, d.x86_len)) {}
	explicit Code(std::span<const uint8_t> bytes) {
		mem_ = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		            0);
		if (mem_ == MAP_FAILED || bytes.size() >= 4096)
			return;
		auto *p = static_cast<uint8_t *>(mem_);
		std::memcpy(p, bytes.data(), bytes.size());
		p[bytes.size()] = 0xc3;
		if (mprotect(mem_, 4096, PROT_READ | PROT_EXEC)) {
			munmap(mem_, 4096);
			mem_ = MAP_FAILED;
		}
	}
	~Code() {
		if (mem_ != MAP_FAILED)
			munmap(mem_, 4096);
	}
	Code(const Code &) = delete;
	Code &operator=(const Code &) = delete;
	[[nodiscard]] Native fn() const { return as<Native>(); }
	template <class F>
	[[nodiscard]] F as() const {
		return mem_ == MAP_FAILED ? nullptr : reinterpret_cast<F>(mem_);
	}

private:
	void *mem_ = MAP_FAILED;
};

} // namespace rejit::test
