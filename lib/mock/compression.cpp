// SPDX-License-Identifier: BSL-1.0
#include "compression.hpp"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <stdexcept>

namespace velt::mock::detail {

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}
}  // namespace

bool accepts_gzip(std::string_view value) {
  std::optional<bool> gzip, star;
  while (!value.empty()) {
    auto const comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    value.remove_prefix(comma == std::string_view::npos ? value.size() : comma + 1);
    auto const semi = item.find(';');
    std::string_view const name = trim(item.substr(0, semi));
    bool allowed = true;
    if (semi != std::string_view::npos) {
      std::string_view params = trim(item.substr(semi + 1));
      if (params.size() >= 2 && (params[0] == 'q' || params[0] == 'Q') && params[1] == '=')
        allowed = std::strtod(std::string(params.substr(2)).c_str(), nullptr) > 0;
    }
    if (iequals(name, "gzip") || iequals(name, "x-gzip")) gzip = allowed;
    else if (name == "*") star = allowed;
  }
  return gzip.value_or(star.value_or(false));
}

std::string gzip_compress(std::string_view body, int level) {
  z_stream z{};
  // 16 + MAX_WBITS: the gzip wrapper; memLevel 8 is zlib's default.
  if (deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2 failed");
  std::string out(deflateBound(&z, static_cast<uLong>(body.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  z.avail_in = static_cast<uInt>(body.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int const rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate failed");
  return out;
}

shared_body gzip_bomb() {
  static shared_body const bomb = [] {
    std::string const zeros(std::size_t{16} << 20, '\0');
    return std::make_shared<std::string const>(gzip_compress(zeros, 9));
  }();
  return bomb;
}

shared_body gzip_cache::compressed(shared_body const& body) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = entries_.find(body.get()); it != entries_.end()) {
      if (it->second.original.lock() == body) {
        lru_.splice(lru_.begin(), lru_, it->second.lru);
        return it->second.gz;
      }
      bytes_ -= it->second.gz->size();  // the address was freed and reused: stale
      lru_.erase(it->second.lru);
      entries_.erase(it);
    }
  }
  // Compressed outside the lock: two threads may both compress one page; the last one
  // stored wins, and both answers are the same bytes.
  auto gz = std::make_shared<std::string const>(gzip_compress(*body));
  std::lock_guard lock(mutex_);
  if (entries_.count(body.get()) != 0 || gz->size() > max_bytes_) return gz;
  lru_.push_front(body.get());
  entries_.emplace(body.get(), entry{body, gz, lru_.begin()});
  bytes_ += gz->size();
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    auto const it = entries_.find(lru_.back());
    bytes_ -= it->second.gz->size();
    entries_.erase(it);
    lru_.pop_back();
  }
  return gz;
}

}  // namespace velt::mock::detail
