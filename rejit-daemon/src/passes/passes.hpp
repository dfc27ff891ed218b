// SPDX-License-Identifier: GPL-2.0
// Factories of the individual passes (one file each in src/passes/).
#pragma once

#include <memory>

#include "rejit/pass.hpp"

namespace rejit {

std::unique_ptr<Pass> make_layout_pass();
std::unique_ptr<Pass> make_wide_load_pass();
std::unique_ptr<Pass> make_wide_store_pass();
std::unique_ptr<Pass> make_zext_pass();
std::unique_ptr<Pass> make_const_fold_pass();
std::unique_ptr<Pass> make_rotate_pass();
std::unique_ptr<Pass> make_bextr_pass();
std::unique_ptr<Pass> make_select_pass();
std::unique_ptr<Pass> make_popcount_pass();
std::unique_ptr<Pass> make_crc_pass();
std::unique_ptr<Pass> make_be_load_pass();
std::unique_ptr<Pass> make_dce_pass();

} // namespace rejit
