// SPDX-License-Identifier: GPL-2.0
// Result<T>: a value or an Error carrying errno and context. C++20 stand-in
// for std::expected; the interface is the subset of std::expected we use.
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace rejit {

struct Error {
	int err = EINVAL; // positive errno
	std::string msg;  // what failed, with context

	[[nodiscard]] std::string str() const;
};

template <typename T>
class [[nodiscard]] Result {
public:
	Result(T value) : v_(std::move(value)) {}
	Result(Error e) : v_(std::move(e)) {}

	[[nodiscard]] bool has_value() const { return v_.index() == 0; }
	explicit operator bool() const { return has_value(); }

	T &value() & { return std::get<0>(v_); }
	const T &value() const & { return std::get<0>(v_); }
	T &&value() && { return std::get<0>(std::move(v_)); }
	T &operator*() & { return value(); }
	const T &operator*() const & { return value(); }
	T *operator->() { return &value(); }
	const T *operator->() const { return &value(); }

	[[nodiscard]] const Error &error() const { return std::get<1>(v_); }

private:
	std::variant<T, Error> v_;
};

// Result<void>: success or Error.
template <>
class [[nodiscard]] Result<void> {
public:
	Result() = default;
	Result(Error e) : err_(std::move(e)), ok_(false) {}

	[[nodiscard]] bool has_value() const { return ok_; }
	explicit operator bool() const { return ok_; }
	[[nodiscard]] const Error &error() const { return err_; }

private:
	Error err_;
	bool ok_ = true;
};

inline Error make_error(int err, std::string msg) {
	return Error{err, std::move(msg)};
}

} // namespace rejit
