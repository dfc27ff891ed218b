// SPDX-License-Identifier: GPL-2.0
#include "rejit/result.hpp"

#include <cstring>

namespace rejit {

std::string Error::str() const {
	return msg + ": " + std::strerror(err);
}

} // namespace rejit
