// SPDX-License-Identifier: BSL-1.0
#include "core/export_writer.hpp"

#include "core/atomic_file.hpp"
#include "core/file_name.hpp"

#include <velt/model.hpp>
#include <velt/wire.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <stdexcept>
#include <system_error>

namespace velt::gdpr {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

void append_json(json::serializer& sr, json::value const& v, std::string& out) {
  sr.reset(&v);
  char buf[4096];
  while (!sr.done()) {
    json::string_view const part = sr.read(buf, sizeof buf);
    out.append(part.data(), part.size());
  }
}

std::string json_string(std::string_view s) { return json::serialize(json::value(json::string_view(s.data(), s.size()))); }

[[noreturn]] void fail(char const* what, fs::path const& p, int err = errno) {
  throw fs::filesystem_error(what, p, std::error_code(err, std::generic_category()));
}

void datasync(fs::path const& p) {
  int const fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot open", p);
  int rc;
  do {
    rc = ::fdatasync(fd);
  } while (rc != 0 && errno == EINTR);
  int const err = errno;
  ::close(fd);
  if (rc != 0) fail("fdatasync failed", p, err);
}

}  // namespace

export_writer::export_writer(export_paths paths, std::string organization_id, std::string user_id,
                             std::size_t spill_bytes, held_bytes_budget* shared)
    : paths_(std::move(paths)),
      organization_id_(std::move(organization_id)),
      user_id_(std::move(user_id)),
      spill_bytes_(spill_bytes),
      shared_(shared) {
  std::string const stem = encode_user_id(user_id_);
  final_path_ = paths_.users_dir / (stem + ".json");
  partial_dir_ = paths_.partial_root / stem;
  // The four known features always come first in the absence of others; the server's
  // own order is kept for everything it sends.
}

export_writer::~export_writer() {
  if (shared_ != nullptr) shared_->held.fetch_sub(pending_bytes_, std::memory_order_relaxed);
}

fs::path export_writer::spool_path(std::size_t index) const {
  return partial_dir_ / std::to_string(index);
}

std::uint64_t export_writer::items() const noexcept {
  std::uint64_t n = 0;
  for (auto const& f : features_) n += f.items;
  return n;
}

export_writer::feature& export_writer::feature_named(std::string_view name) {
  for (auto& f : features_) {
    if (f.name == name) return f;
  }
  features_.push_back(feature{std::string(name), 0, 0, {}, false});
  return features_.back();
}

void export_writer::hold(feature& f, std::string_view text) {
  if (text.empty()) return;
  f.pending.push_back(text);
  pending_bytes_ += text.size();
  if (shared_ != nullptr) shared_->held.fetch_add(text.size(), std::memory_order_relaxed);
}

std::size_t export_writer::add_page(json::object const& data, std::optional<std::string> const& next_token) {
  std::size_t const total_before = pending_bytes_;
  for (auto const& member : data) {
    auto const* array = member.value().if_array();
    if (array == nullptr) continue;
    feature& f = feature_named(std::string_view(member.key().data(), member.key().size()));
    std::string& chunk = chunks_.emplace_back();
    for (auto const& item : *array) {
      if (f.items++ > 0) chunk += ',';
      append_json(serializer_, item, chunk);
    }
    hold(f, chunk);
  }
  return page_added(total_before, next_token);
}

std::size_t export_writer::add_page(velt::user_data_page page) {
  if (page.format() == velt::page_format::parsed) return add_page(page.data(), page.next_page_token());
  std::size_t const total_before = pending_bytes_;
  bool const compact = page.raw_items_compact();
  bool keep_page = false;
  for (auto const& raw : page.raw_features()) {
    if (raw.items.empty()) {
      (void)feature_named(raw.name);  // the feature's place in the file is where it first came
      continue;
    }
    feature& f = feature_named(raw.name);
    if (compact) {
      // The items joined by commas, as sent: written from the page itself, not copied.
      if (f.items > 0) hold(f, ",");
      hold(f, raw.text);
      f.items += raw.items.size();
      keep_page = true;
    } else {
      std::string& chunk = chunks_.emplace_back();
      for (std::string_view const item : raw.items) {
        if (f.items++ > 0) chunk += ',';
        velt::wire::append_compact_json(chunk, item);
      }
      hold(f, chunk);
    }
  }
  std::optional<std::string> token = page.next_page_token();
  if (keep_page) held_.push_back(std::move(page));
  return page_added(total_before, token);
}

std::size_t export_writer::page_added(std::size_t pending_before,
                                      std::optional<std::string> const& next_token) {
  ++pages_;
  ++unsaved_pages_;
  next_token_ = next_token;
  std::size_t const added = pending_bytes_ - pending_before;
  // After the last page, finish() writes what is held straight into the final file: no
  // spool round trip. Before it, a user holds at most spill_bytes plus one page, or, while
  // the run's shared budget has room, up to its per-user bound.
  bool const more_pages = next_token && !next_token->empty();
  bool const over_own = pending_bytes_ >= spill_bytes_;
  bool const shared_room = shared_ != nullptr && pending_bytes_ < shared_->max_per_user &&
                           shared_->held.load(std::memory_order_relaxed) <= shared_->cap;
  if (more_pages && over_own && !shared_room) spill();
  return added;
}

void export_writer::spill() {
  if (pending_bytes_ == 0) return;
  if (!partial_exists_) {
    make_private_directories(paths_.partial_root);
    if (::mkdir(partial_dir_.c_str(), 0700) != 0 && errno != EEXIST) {
      fail("cannot create directory", partial_dir_);
    }
    partial_exists_ = true;
    sync_directory(paths_.partial_root);
  }
  for (std::size_t i = 0; i < features_.size(); ++i) {
    feature& f = features_[i];
    if (f.pending.empty()) continue;
    fs::path const p = spool_path(i);
    int const fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) fail("cannot open", p);
    std::uint64_t bytes = 0;
    try {
      for (std::string_view const text : f.pending) {
        write_all(fd, text.data(), text.size(), p);
        bytes += text.size();
      }
    } catch (...) {
      ::close(fd);
      throw;
    }
    ::close(fd);
    f.spooled += bytes;
    f.pending.clear();
    f.unsynced = true;
  }
  release_pending();
}

void export_writer::release_pending() {
  if (shared_ != nullptr) shared_->held.fetch_sub(pending_bytes_, std::memory_order_relaxed);
  for (auto& f : features_) f.pending.clear();
  held_.clear();
  chunks_.clear();
  pending_bytes_ = 0;
}

export_journal export_writer::journal() const {
  export_journal j;
  j.organization_id = organization_id_;
  j.user_id = user_id_;
  j.pages = pages_;
  j.next_page_token = next_token_.value_or("");
  for (auto const& f : features_) j.features.push_back(journal_feature{f.name, f.items, f.spooled});
  return j;
}

void export_writer::checkpoint() {
  if (!next_token_ || next_token_->empty()) {
    throw std::logic_error("export_writer::checkpoint after the last page");
  }
  // Make sure the directory exists even when no item was spooled yet (pages of empty
  // arrays still advance the token).
  if (!partial_exists_) {
    make_private_directories(paths_.partial_root);
    if (::mkdir(partial_dir_.c_str(), 0700) != 0 && errno != EEXIST) {
      fail("cannot create directory", partial_dir_);
    }
    partial_exists_ = true;
    sync_directory(paths_.partial_root);
  }
  spill();
  for (std::size_t i = 0; i < features_.size(); ++i) {
    if (!features_[i].unsynced) continue;
    datasync(spool_path(i));
    features_[i].unsynced = false;
  }
  write_file_atomically(partial_dir_ / "journal.json", to_json_text(journal()));
  unsaved_pages_ = 0;
}

std::optional<std::string> export_writer::resume() {
  struct stat st {};
  if (::stat(partial_dir_.c_str(), &st) != 0) return std::nullopt;
  partial_exists_ = true;
  std::optional<export_journal> j;
  try {
    j = parse_journal(read_file(partial_dir_ / "journal.json"));
  } catch (fs::filesystem_error const&) {
  }
  bool usable = j && j->organization_id == organization_id_ && j->user_id == user_id_;
  for (std::size_t i = 0; usable && i < j->features.size(); ++i) {
    fs::path const p = spool_path(i);
    std::uint64_t const want = j->features[i].bytes;
    if (::stat(p.c_str(), &st) != 0) {
      usable = want == 0;
      continue;
    }
    if (static_cast<std::uint64_t>(st.st_size) < want ||
        ::truncate(p.c_str(), static_cast<off_t>(want)) != 0) {
      usable = false;
    }
  }
  if (!usable) {
    discard();
    return std::nullopt;
  }
  // Spool files of features first seen after the checkpoint are not part of it.
  std::error_code ec;
  for (auto it = fs::directory_iterator(partial_dir_, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string const name = it->path().filename().string();
    std::size_t index = 0;
    auto const [end, perr] = std::from_chars(name.data(), name.data() + name.size(), index);
    if (perr == std::errc() && end == name.data() + name.size() && index >= j->features.size()) {
      fs::remove(it->path(), ec);
    }
  }
  features_.clear();
  for (auto const& f : j->features) {
    features_.push_back(feature{f.name, f.items, f.bytes, {}, false});
  }
  release_pending();
  pages_ = resumed_pages_ = j->pages;
  unsaved_pages_ = 0;
  next_token_ = j->next_page_token;
  return next_token_;
}

std::uint64_t export_writer::finish(std::string_view exported_at) {
  for (char const* known : known_features) (void)feature_named(known);

  atomic_file out(paths_.users_dir, final_path_.filename().string());
  out.hash_on_commit();  // the audit log's `exported` line names it
  std::string head;
  head += "{\"organizationId\":";
  head += json_string(organization_id_);
  head += ",\"userId\":";
  head += json_string(user_id_);
  head += ",\"exportedAt\":";
  head += json_string(exported_at);
  head += ",\"pages\":";
  head += std::to_string(pages_);
  head += ",\"data\":{";
  out.write(head);
  for (std::size_t i = 0; i < features_.size(); ++i) {
    feature const& f = features_[i];
    std::string open = i > 0 ? "," : "";
    open += json_string(f.name);
    open += ":[";
    out.write(open);
    if (f.spooled > 0) out.append_file(spool_path(i), f.spooled);
    for (std::string_view const text : f.pending) out.write(text);
    out.write("]");
  }
  out.write("}}\n");
  out.commit();
  sha256_ = out.sha256();
  release_pending();
  discard();
  return out.size();
}

void export_writer::discard() {
  if (!partial_exists_) return;
  std::error_code ec;
  fs::remove_all(partial_dir_, ec);
  partial_exists_ = false;
}

}  // namespace velt::gdpr
