// SPDX-License-Identifier: BSL-1.0
#include "core/file_name.hpp"

#include <velt/audit.hpp>

namespace velt::gdpr {

static_assert(max_encoded_id_bytes == audit::max_file_stem_bytes);

// One definition for the export's file names and the receipts' (design note §6).
std::string encode_user_id(std::string_view user_id) { return audit::user_file_stem(user_id); }

std::string export_file_name(std::string_view user_id) {
  return encode_user_id(user_id) + ".json";
}

}  // namespace velt::gdpr
