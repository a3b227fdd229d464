// SPDX-License-Identifier: BSL-1.0
#include "core/file_name.hpp"

#include <velt/audit.hpp>

namespace velt::gdpr {

static_assert(max_encoded_id_bytes == velt::audit::max_file_stem_bytes, "one file-name mapping, one bound");

// One definition of the mapping, shared with the receipts the audit library writes.
std::string encode_user_id(std::string_view user_id) { return velt::audit::user_file_stem(user_id); }

std::string export_file_name(std::string_view user_id) {
  return encode_user_id(user_id) + ".json";
}

}  // namespace velt::gdpr
