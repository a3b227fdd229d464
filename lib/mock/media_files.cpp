// SPDX-License-Identifier: BSL-1.0
#include "media_files.hpp"

#include "rng.hpp"

#include <zlib.h>

#include <array>
#include <stdexcept>

namespace velt::mock::detail {

namespace {

constexpr std::string_view prefix = "/media/";

void put32(std::string& out, std::uint32_t v) {  // big endian (PNG)
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}
void put16le(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}
void put32le(std::string& out, std::uint32_t v) {
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::uint32_t crc(std::string_view bytes) {
  return static_cast<std::uint32_t>(
      crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<Bytef const*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

void png_chunk(std::string& out, std::string_view type, std::string_view data) {
  put32(out, static_cast<std::uint32_t>(data.size()));
  std::string body(type);
  body.append(data);
  out.append(body);
  put32(out, crc(body));
}

std::string make_png(std::uint64_t h) {
  constexpr std::uint32_t side = 16;
  std::string ihdr;
  put32(ihdr, side);
  put32(ihdr, side);
  ihdr.append({'\x08', '\x02', '\x00', '\x00', '\x00'});  // 8 bit, RGB, deflate, filter 0, no interlace
  std::string raw;
  for (std::uint32_t y = 0; y < side; ++y) {
    raw.push_back('\0');  // filter: none
    for (std::uint32_t x = 0; x < side; ++x) {
      bool const stripe = ((x + y) / 4) % 2 == 0;  // a pattern, so the image is not flat
      raw.push_back(static_cast<char>(stripe ? h & 0xff : 0xff - (h & 0xff)));
      raw.push_back(static_cast<char>((h >> 8) & 0xff));
      raw.push_back(static_cast<char>((h >> 16) & 0xff));
    }
  }
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::string z(size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(z.data()), &size, reinterpret_cast<Bytef const*>(raw.data()),
                static_cast<uLong>(raw.size()), 9) != Z_OK) {
    throw std::runtime_error("zlib compress2 failed");
  }
  z.resize(size);
  std::string out = "\x89PNG\r\n\x1a\n";
  png_chunk(out, "IHDR", ihdr);
  png_chunk(out, "IDAT", z);
  png_chunk(out, "IEND", {});
  return out;
}

std::string make_wav(std::uint64_t h) {
  constexpr std::uint32_t rate = 8000, samples = rate / 2;
  std::uint32_t const period = 8 + static_cast<std::uint32_t>(h % 32);  // a triangle wave, 250..1000 Hz
  std::string out = "RIFF";
  put32le(out, 36 + samples * 2);
  out.append("WAVEfmt ");
  put32le(out, 16);
  put16le(out, 1);  // PCM
  put16le(out, 1);  // mono
  put32le(out, rate);
  put32le(out, rate * 2);
  put16le(out, 2);
  put16le(out, 16);
  out.append("data");
  put32le(out, samples * 2);
  for (std::uint32_t i = 0; i < samples; ++i) {
    std::int32_t const phase = static_cast<std::int32_t>(i % period);
    std::int32_t const half = static_cast<std::int32_t>(period / 2);
    std::int32_t const tri = phase < half ? phase : static_cast<std::int32_t>(period) - phase;
    put16le(out, static_cast<std::uint16_t>(static_cast<std::int16_t>((tri * 2 - half) * 8000 / half)));
  }
  return out;
}

std::string cue_time(unsigned seconds, char separator) {
  std::string out = "00:00:0" + std::to_string(seconds);
  out.push_back(separator);
  out.append("000");
  return out;
}

std::string make_subtitles(std::string_view key, bool vtt) {
  std::string out = vtt ? "WEBVTT\n\n" : "";
  char const sep = vtt ? '.' : ',';
  for (unsigned i = 0; i < 3; ++i) {
    if (!vtt) out.append(std::to_string(i + 1)).push_back('\n');
    out.append(cue_time(i, sep)).append(" --> ").append(cue_time(i + 1, sep)).push_back('\n');
    out.append("Cue ").append(std::to_string(i + 1)).append(" of ").append(key).append("\n\n");
  }
  return out;
}

std::string key_bytes(std::uint64_t h, std::size_t n) {
  rng r(h);
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    std::uint64_t v = r.next();
    for (int i = 0; i < 8 && out.size() < n; ++i, v >>= 8) out.push_back(static_cast<char>(v & 0xff));
  }
  return out;
}

bool key_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

std::string_view reason(unsigned status) noexcept {
  switch (status) {
    case 200: return "OK";
    case 302: return "Found";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 500: return "Internal Server Error";
    default: return "Unknown";
  }
}

}  // namespace

std::string_view media_kind_segment(media_kind k) noexcept {
  switch (k) {
    case media_kind::ok: return "ok";
    case media_kind::not_found: return "404";
    case media_kind::slow: return "slow";
    case media_kind::big: return "big";
    case media_kind::big_chunked: return "bigchunked";
    case media_kind::redirect_same: return "redirect-same";
    case media_kind::redirect_other: return "redirect-other";
    case media_kind::redirect_loop: return "redirect-loop";
    case media_kind::error_then_ok: return "500-then-ok";
  }
  return "ok";
}

bool is_media_target(std::string_view target) noexcept { return target.starts_with(prefix); }

std::optional<media_path> parse_media_path(std::string_view target) {
  if (auto const q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  if (!target.starts_with(prefix)) return std::nullopt;
  target.remove_prefix(prefix.size());
  auto const slash = target.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view const segment = target.substr(0, slash);
  std::string_view const file = target.substr(slash + 1);
  media_path out;
  bool known = false;
  for (auto k : all_media_kinds) {
    if (media_kind_segment(k) == segment) {
      out.kind = k;
      known = true;
    }
  }
  auto const dot = file.rfind('.');
  if (!known || dot == std::string_view::npos || dot == 0 || dot > 64) return std::nullopt;
  std::string_view const key = file.substr(0, dot), ext = file.substr(dot + 1);
  if (ext.empty() || ext.size() > 5) return std::nullopt;
  for (char c : key) {
    if (!key_char(c)) return std::nullopt;
  }
  for (char c : ext) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return std::nullopt;
  }
  out.key = std::string(key);
  out.ext = std::string(ext);
  return out;
}

std::string media_target(media_kind k, std::string_view key, std::string_view ext) {
  std::string out(prefix);
  out.append(media_kind_segment(k)).append(1, '/').append(key).append(1, '.').append(ext);
  return out;
}

media_file media_bytes(std::string_view key, std::string_view ext) {
  std::uint64_t const h = hash_string(key);
  if (ext == "png") return {make_png(h), "image/png"};
  if (ext == "wav") return {make_wav(h), "audio/wav"};
  if (ext == "vtt") return {make_subtitles(key, true), "text/vtt"};
  if (ext == "srt") return {make_subtitles(key, false), "application/x-subrip"};
  std::size_t const n = 2048 + static_cast<std::size_t>(h % 4096);
  if (ext == "mp4") {
    std::string out;
    put32(out, 32);
    out.append("ftypisom");
    put32(out, 0x200);
    out.append("isomiso2avc1mp41");
    std::string const payload = key_bytes(h, n);
    put32(out, static_cast<std::uint32_t>(payload.size() + 8));
    out.append("free").append(payload);
    return {std::move(out), "video/mp4"};
  }
  if (ext == "webm") return {"\x1a\x45\xdf\xa3" + key_bytes(h, n), "video/webm"};
  return {key_bytes(h, n), "application/octet-stream"};
}

std::string media_head(unsigned status, std::vector<std::pair<std::string, std::string>> const& headers,
                       bool keep_alive) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason(status)) + "\r\n";
  for (auto const& [name, value] : headers) out.append(name).append(": ").append(value).append("\r\n");
  out.append(keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
  return out;
}

void media_state::record(media_request r) {
  std::lock_guard lock(mutex_);
  if (capacity_ == 0) return;
  if (kept_.size() == capacity_) kept_.pop_front();
  kept_.push_back(std::move(r));
}

std::vector<media_request> media_state::snapshot() const {
  std::lock_guard lock(mutex_);
  return {kept_.begin(), kept_.end()};
}

bool media_state::first_time(std::string const& target) {
  std::lock_guard lock(mutex_);
  return seen_.insert(target).second;
}

void media_state::clear() {
  std::lock_guard lock(mutex_);
  kept_.clear();
  seen_.clear();
}

}  // namespace velt::mock::detail
