// SPDX-License-Identifier: BSL-1.0
// export_writer.hpp: assembling one user's export file from its pages.
//
// The file is `DIR/users/<encoded id>.json`:
//   {"organizationId":"...","userId":"...","exportedAt":"2026-11-26T10:00:00Z","pages":3,
//    "data":{"comments":[...],"reactions":[...],"recordings":[...],"notifications":[...],
//            "<any other feature>":[...]}}
// Features appear in the order the server first sent them, each array holding the items of
// every page in server order; the four known arrays are always present (features the
// server never sent are appended, empty). Items of raw pages (what the exporter fetches)
// are written as the server spelled them, with any whitespace outside strings removed;
// items of parsed pages as Boost.JSON serializes the values (numbers exact: integers as
// integers, doubles in shortest round-trip form).
//
// Memory per user is bounded: item text (the raw pages themselves, or items serialized
// from parsed ones) is held up to `spill_bytes` (or more, within a run-wide
// `held_bytes_budget`), then appended to spool files under `DIR/.partial/<encoded id>/`
// (see export_journal.hpp).
#pragma once

#include "core/export_journal.hpp"

#include <velt/model.hpp>

#include <boost/json/object.hpp>
#include <boost/json/serializer.hpp>

#include <cstddef>
#include <atomic>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace velt::gdpr {

/// Where the files of a run go.
struct export_paths {
  std::filesystem::path users_dir;     ///< DIR/users
  std::filesystem::path partial_root;  ///< DIR/.partial
  explicit export_paths(std::filesystem::path const& out_dir)
      : users_dir(out_dir / "users"), partial_root(out_dir / ".partial") {}
};

/// Default bound on buffered item bytes per user before they are spooled to disk.
inline constexpr std::size_t default_spill_bytes = 512 * 1024;

/// Item bytes held in memory by all the writers of a run. While the total stays under
/// `cap`, a writer keeps its pages past its own `spill_bytes` (up to `max_per_user`) and
/// writes them once, into the final file, instead of spooling them and copying them back.
/// Thread-safe.
struct held_bytes_budget {
  explicit held_bytes_budget(std::size_t cap_bytes, std::size_t max_per_user_bytes = 16u << 20)
      : cap(cap_bytes), max_per_user(max_per_user_bytes) {}
  std::size_t const cap;
  std::size_t const max_per_user;
  std::atomic<std::size_t> held{0};
};

/// One user's export in progress. Blocking file I/O happens in `resume`, `add_page` (when
/// the buffer spills), `checkpoint`, `finish` and `discard`. Not thread-safe.
class export_writer {
 public:
  /// `shared`: the run's budget (may be null: then `spill_bytes` alone decides).
  export_writer(export_paths paths, std::string organization_id, std::string user_id,
                std::size_t spill_bytes = default_spill_bytes,
                held_bytes_budget* shared = nullptr);
  ~export_writer();
  export_writer(export_writer const&) = delete;
  export_writer& operator=(export_writer const&) = delete;

  /// The final file: `users_dir / export_file_name(user_id)`.
  std::filesystem::path const& final_path() const noexcept { return final_path_; }

  /// Picks up the durable progress of an earlier, interrupted run of this user: restores
  /// the spooled items and returns the token of the next page. `std::nullopt` means
  /// "start from the first page" (nothing usable was found; leftovers are removed).
  std::optional<std::string> resume();

  /// Adds one page (its `data` object, and the token of the page after it, none on the
  /// last page). Members of `data` that are not arrays (a stray "nextPageToken") are not
  /// features and are left out. Returns the bytes of serialized items the page added.
  std::size_t add_page(boost::json::object const& data, std::optional<std::string> const& next_token);
  /// Adds one page as the client delivered it, raw or parsed (its own next-page token).
  /// The items of a compact raw page are not copied: the writer keeps the page until they
  /// are spooled or written.
  std::size_t add_page(velt::user_data_page page);

  std::uint64_t pages() const noexcept { return pages_; }
  std::uint64_t items() const noexcept;
  /// Pages of this run not yet covered by a checkpoint.
  std::uint64_t unsaved_pages() const noexcept { return unsaved_pages_; }
  /// Pages restored by `resume`.
  std::uint64_t resumed_pages() const noexcept { return resumed_pages_; }

  /// Makes the progress so far durable: spools buffered items, fsyncs the spool files and
  /// writes the journal atomically. Only between pages (a next page must exist).
  void checkpoint();

  /// Writes the final file atomically (temporary file, fsync, rename, fsync of the
  /// directory) and removes the partial state. Returns the file's size.
  std::uint64_t finish(std::string_view exported_at);

  /// The SHA-256 of the file `finish` wrote (read back from it), 64 lower-case hex
  /// digits; empty before.
  std::string const& sha256() const noexcept { return sha256_; }

  /// Removes the partial state (spool files and journal), if any.
  void discard();

 private:
  struct feature {
    std::string name;
    std::uint64_t items = 0;
    std::uint64_t spooled = 0;  // bytes in the spool file
    // Item text not spooled yet, in order: views into held_ pages, chunks_ and literals.
    std::vector<std::string_view> pending;
    bool unsynced = false;      // spool written since the last fsync
  };
  feature& feature_named(std::string_view name);
  void hold(feature& f, std::string_view text);
  void release_pending();
  std::size_t page_added(std::size_t pending_before, std::optional<std::string> const& next_token);
  void spill();
  std::filesystem::path spool_path(std::size_t index) const;
  export_journal journal() const;

  export_paths paths_;
  std::string organization_id_;
  std::string user_id_;
  std::size_t spill_bytes_;
  held_bytes_budget* shared_;
  std::filesystem::path final_path_;
  std::filesystem::path partial_dir_;
  std::vector<feature> features_;
  std::size_t pending_bytes_ = 0;
  std::uint64_t pages_ = 0;
  std::uint64_t unsaved_pages_ = 0;
  std::uint64_t resumed_pages_ = 0;
  std::optional<std::string> next_token_;
  std::string sha256_;
  bool partial_exists_ = false;
  std::vector<velt::user_data_page> held_;  // raw pages `pending` points into
  std::deque<std::string> chunks_;          // serialized items `pending` points into
  boost::json::serializer serializer_;
};

}  // namespace velt::gdpr
