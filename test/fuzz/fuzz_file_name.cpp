// SPDX-License-Identifier: BSL-1.0
// Fuzzes the CLI's user-id → file-name encoding (tools/velt-gdpr/core/file_name.hpp):
// `encode_user_id` and `export_file_name`.
//
// Input: [split: 1 byte][two ids: the rest, cut at `split` (mod its length + 1)]
//   The first id is `rest[0, k)`, the second `rest[k, end)`; each is checked alone, and the
//   pair for "distinct ids give distinct names".
//
// Invariants (besides ASan/UBSan), for every id:
//   - an empty id throws std::invalid_argument; any other id gives a name (no exception);
//   - the name is one safe path component: non-empty, at most max_encoded_id_bytes + 33
//     bytes (export_file_name at most 255, NAME_MAX), only the bytes `A-Z a-z 0-9 . _ - % ~`
//     (so no '/', no NUL, no control byte, nothing a shell or another file system treats
//     specially), never starting with '.' (so not hidden, not "." or "..");
//   - deterministic, and export_file_name == encode_user_id + ".json";
//   - a name without '~' is the canonical percent-encoding of the id: it decodes back to
//     exactly the id (a decoder written here, independently), and re-encoding the decoded
//     bytes by the documented rule gives the same name;
//   - a name with '~' (shortened) is a canonical encoding of a prefix of the id, 198..200
//     bytes long, cut on a `%XX` boundary, that a longer encoding would have overflowed,
//     then '~' and 32 upper-case hex digits: the first 16 bytes of the id's SHA-256;
//   - distinct ids give distinct names, equal ids equal names.
#include "fuzz_support.hpp"

#include "core/file_name.hpp"

#include <openssl/evp.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

using velt::fuzz::check;
using velt::gdpr::max_encoded_id_bytes;

constexpr std::size_t kHashDigits = 32;

bool kept_byte(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool upper_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

int hex_value(char c) { return c <= '9' ? c - '0' : c - 'A' + 10; }

// The documented encoding of one byte at position `i` of an id.
std::string encode_byte(unsigned char c, std::size_t i) {
  if (kept_byte(c) && !(i == 0 && c == '.')) return std::string(1, static_cast<char>(c));
  static constexpr char digits[] = "0123456789ABCDEF";
  return {'%', digits[c >> 4], digits[c & 0xF]};
}

// Percent-decodes a stem made of kept bytes and upper-case %XX escapes; nullopt when it is
// not exactly that (a stray '%', lower-case hex, any other byte).
std::optional<std::string> decode_stem(std::string_view stem) {
  std::string out;
  for (std::size_t i = 0; i < stem.size();) {
    char const c = stem[i];
    if (c == '%') {
      if (i + 2 >= stem.size()) return std::nullopt;
      if (!upper_hex(stem[i + 1]) || !upper_hex(stem[i + 2])) return std::nullopt;
      out += static_cast<char>(hex_value(stem[i + 1]) << 4 | hex_value(stem[i + 2]));
      i += 3;
      continue;
    }
    if (!kept_byte(static_cast<unsigned char>(c))) return std::nullopt;
    out += c;
    ++i;
  }
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  check(EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr) == 1,
        "SHA-256 failed in the harness");
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += digits[md[i] >> 4];
    out += digits[md[i] & 0xF];
  }
  return out;
}

// Checks one id; returns its name (empty for the empty id).
std::string check_one(std::string_view id) {
  if (id.empty()) {
    bool threw = false;
    try {
      (void)velt::gdpr::encode_user_id(id);
    } catch (std::invalid_argument const&) {
      threw = true;
    }
    check(threw, "an empty id did not throw std::invalid_argument");
    return {};
  }
  std::string const name = velt::gdpr::encode_user_id(id);
  check(velt::gdpr::encode_user_id(id) == name, "encode_user_id is not deterministic");
  check(velt::gdpr::export_file_name(id) == name + ".json",
        "export_file_name is not encode_user_id + \".json\"");

  // One safe path component.
  check(!name.empty(), "an empty name");
  check(name.size() <= max_encoded_id_bytes + 1 + kHashDigits, "a name over its length bound");
  check(name.size() + 5 <= 255, "an export file name over NAME_MAX (255)");
  for (char const c : name)
    check(kept_byte(static_cast<unsigned char>(c)) || c == '%' || c == '~',
          "a byte outside [A-Za-z0-9._%~-] in a name ('/', NUL, control, space, ...)");
  check(name.front() != '.', "a name starts with '.' (hidden, \".\" or \"..\")");
  check(name != "." && name != "..", "the name is \".\" or \"..\"");

  std::size_t const tilde = name.find('~');
  if (tilde == std::string::npos) {
    // Not shortened: the canonical encoding of the whole id.
    auto const decoded = decode_stem(name);
    check(decoded.has_value(), "a name that is not a percent-encoding");
    check(*decoded == id, "a name does not decode back to its id");
    std::string again;
    for (std::size_t i = 0; i < decoded->size(); ++i)
      again += encode_byte(static_cast<unsigned char>((*decoded)[i]), i);
    check(again == name, "a name is not the canonical encoding of its id");
    check(name.size() <= max_encoded_id_bytes, "an unshortened name over max_encoded_id_bytes");
    return name;
  }

  // Shortened: <canonical encoding of a prefix>~<32 hex digits of the SHA-256 of the id>.
  check(name.find('~', tilde + 1) == std::string::npos, "more than one '~' in a name");
  std::string_view const stem = std::string_view(name).substr(0, tilde);
  std::string_view const hash = std::string_view(name).substr(tilde + 1);
  check(hash.size() == kHashDigits, "a shortened name's hash is not 32 digits");
  for (char const c : hash) check(upper_hex(c), "a shortened name's hash is not upper-case hex");
  check(hash == std::string_view(sha256_hex(id)).substr(0, kHashDigits),
        "a shortened name's hash is not the id's SHA-256");
  check(stem.size() <= max_encoded_id_bytes && stem.size() + 3 > max_encoded_id_bytes,
        "a shortened name's stem is not cut at the length limit");
  auto const decoded = decode_stem(stem);
  check(decoded.has_value(), "a shortened name's stem is not a percent-encoding (cut inside %XX?)");
  check(decoded->size() < id.size() && id.substr(0, decoded->size()) == *decoded,
        "a shortened name's stem is not a proper prefix of its id");
  std::string again;
  for (std::size_t i = 0; i < decoded->size(); ++i)
    again += encode_byte(static_cast<unsigned char>((*decoded)[i]), i);
  check(again == stem, "a shortened name's stem is not the canonical encoding of the prefix");
  // Cut only where the next byte's encoding would not fit.
  std::string const next = encode_byte(static_cast<unsigned char>(id[decoded->size()]), decoded->size());
  check(stem.size() + next.size() > max_encoded_id_bytes,
        "a name was shortened although the id's encoding still fitted");
  return name;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  velt::fuzz::reader in(data, size);
  std::size_t const split = in.byte();
  std::string_view const rest = in.rest();
  std::size_t const k = split % (rest.size() + 1);
  std::string_view const a = rest.substr(0, k);
  std::string_view const b = rest.substr(k);

  std::string const name_a = check_one(a);
  std::string const name_b = check_one(b);
  std::string const name_all = check_one(rest);
  if (!a.empty() && !b.empty()) {
    check((a == b) == (name_a == name_b), "distinct ids share a name (or equal ids do not)");
  }
  if (!a.empty() && a != rest) {
    check(name_a != name_all, "an id and a longer id starting with it share a name");
  }
  return 0;
}
