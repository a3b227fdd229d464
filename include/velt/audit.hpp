// SPDX-License-Identifier: BSL-1.0
// velt/audit.hpp: the audit trail and signed proof of erasure (docs/design/audit-trail.md).
//
// A hash-chained JSON-lines log (`log_writer` appends, `chain_verifier` / `verify_log`
// check), Ed25519 keys (`signing_key`, `public_key`) that sign each run's last line, and
// erasure receipts (`sign_receipt`, `write_receipt`, `verify_receipt`) that anyone can
// check with `openssl pkeyutl -verify`. Everything here is synchronous and independent of
// `velt::client` and Asio: the library is the mechanism, the caller decides the policy
// (which events, when to `sync`).
#pragma once

#include <boost/json/object.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

/// The audit trail: hash-chained log, Ed25519 keys and signed erasure receipts.
namespace velt::audit {

namespace detail {
struct key;
class writer_state;
struct verifier_state;
}  // namespace detail

/// What went wrong, for a caller that maps failures to exit statuses.
enum class error_kind {
  io,               ///< A system call on a log, key or receipt file failed (errno in the message).
  lock_timeout,     ///< The log's lock was not obtained within the writer's lock timeout.
  tampered_tail,    ///< The log's last complete line does not verify: the writer will not chain onto it.
  exists,           ///< A key file to be written already exists (keys are never replaced).
  key_unreadable,   ///< A key file is not a PEM key OpenSSL can read.
  key_encrypted,    ///< A private key is encrypted (not supported).
  key_not_ed25519,  ///< A key is of another type than Ed25519.
  key_too_open,     ///< A private key file is readable by group or others.
  invalid_argument, ///< A caller's value is refused (a line over 64 KiB, an envelope key in an event, ...).
  secret_in_line,   ///< A line would contain a string registered with `log_writer::forbid`.
};

/// The exception of this library: a message naming the file and the problem, and its kind.
class error : public std::runtime_error {
 public:
  /// An error of `kind` with message `what`.
  error(error_kind kind, std::string const& what);
  /// The kind of failure.
  error_kind kind() const noexcept { return kind_; }

 private:
  error_kind kind_;
};

/// An Ed25519 public key: checks signatures of `run_end` lines and receipts. Cheap to copy.
class public_key {
 public:
  /// Reads a PEM SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`). Throws `error`
  /// (`io`, `key_unreadable`, `key_not_ed25519`).
  static public_key load(std::filesystem::path const& pem_file);
  /// As `load`, from PEM text in memory.
  static public_key from_pem(std::string_view pem);

  /// The key's fingerprint (`keySha256`): lower-case hex SHA-256 of the DER
  /// SubjectPublicKeyInfo, as `openssl pkey -pubin -outform DER | sha256sum` prints it.
  std::string const& fingerprint() const noexcept;
  /// The PEM SubjectPublicKeyInfo text.
  std::string pem() const;
  /// Whether `signature` (64 bytes) is this key's Ed25519 signature of `message`.
  bool verify(std::string_view message, std::span<std::byte const> signature) const;

 private:
  friend class signing_key;
  explicit public_key(std::shared_ptr<detail::key const> key) : key_(std::move(key)) {}
  std::shared_ptr<detail::key const> key_;
};

/// An Ed25519 private key. Move-only, so that a key is not copied around by accident.
class signing_key {
 public:
  /// A new random key.
  static signing_key generate();
  /// Reads an unencrypted PEM PKCS#8 (or traditional) Ed25519 private key. Refuses, with
  /// `error`: a file readable by group or others (`key_too_open`), an encrypted key
  /// (`key_encrypted`), another key type (`key_not_ed25519`), anything else unreadable.
  static signing_key load(std::filesystem::path const& pem_file);

  signing_key(signing_key&&) noexcept = default;             ///< Moves the key.
  signing_key& operator=(signing_key&&) noexcept = default;  ///< Moves the key.
  signing_key(signing_key const&) = delete;                  ///< Not copyable.
  signing_key& operator=(signing_key const&) = delete;       ///< Not copyable.
  ~signing_key();                                            ///< Frees the key.

  /// Writes `file` (PKCS#8 PEM, mode 0600) and `file` + ".pub" (SPKI PEM, mode 0644),
  /// each published whole and durably. Never replaces: if either exists, throws `error`
  /// (`exists`) before writing anything.
  void save(std::filesystem::path const& file) const;
  /// The matching public key.
  audit::public_key public_key() const;
  /// The Ed25519 signature of `message` (deterministic: same message, same bytes).
  std::array<std::byte, 64> sign(std::string_view message) const;

 private:
  friend class log_writer;
  explicit signing_key(std::shared_ptr<detail::key const> key) : key_(std::move(key)) {}
  std::shared_ptr<detail::key const> key_;
};

/// One event to append: its name (`"exported"`, ...) and its members in order. The envelope
/// members (`v`, `seq`, `prev`, `run`, `at`, `event`, `keySha256`, `sig`, `h`) are the
/// writer's and are refused here. Integers and strings only (no floating point).
struct event {
  std::string name;              ///< The `event` member.
  boost::json::object members;   ///< The event's own members, written in this order.
};

/// A line of the chain, by position and hash: the head a run reports (`seq`, `h`).
struct line_ref {
  std::uint64_t seq = 0;  ///< The line's `seq`, which is its 1-based line number.
  std::string h;          ///< The line's `h`, 64 lower-case hex digits.
};

/// What `log_writer::begin_run` records in `run_start` besides what it fills in itself
/// (`host` from gethostname, `pid`).
struct run_info {
  std::string tool = "velt-gdpr";                 ///< `tool`.
  std::string tool_version;                       ///< `toolVersion`; empty: this library's version.
  std::string command;                            ///< `command` ("export", "erase", ...).
  std::string organization_id;                    ///< `organizationId`.
  std::string base_url;                           ///< `baseUrl`, without userinfo or query.
  std::optional<std::filesystem::path> dir;       ///< `dir` (absolute output directory), if any.
  std::vector<std::string> args;                  ///< `args`, already redacted by the caller.
  std::uint64_t args_omitted = 0;                 ///< `argsOmitted` when non-zero.
};

/// Options of `log_writer::open`.
struct writer_options {
  /// How long to retry the log's lock (LOCK_NB) before giving up with `lock_timeout`.
  std::chrono::milliseconds lock_timeout{30'000};
};

/// Appends to one audit log file: the hash chain, the lock shared with other processes,
/// torn-tail repair. Thread-safe (appends are serialised); every call blocks on the file.
/// One writer per process and file. Throws `error` on any failure.
class log_writer {
 public:
  /// Opens (creating, mode 0600, and its parent directories, 0700) `file` with O_APPEND;
  /// draws this run's id; under the lock, cuts a torn tail (bytes after the last newline)
  /// and records that with a `cut` line, and refuses (`tampered_tail`) a last complete
  /// line that does not verify.
  static log_writer open(std::filesystem::path const& file, writer_options options = {});

  log_writer(log_writer&&) noexcept;             ///< Moves the writer.
  log_writer& operator=(log_writer&&) noexcept;  ///< Moves the writer.
  ~log_writer();                                 ///< Closes the file (no sync).

  /// This run's id, 32 lower-case hex digits (`run`).
  std::string const& run_id() const noexcept;
  /// The log file.
  std::filesystem::path const& file() const noexcept;

  /// Refuses (`secret_in_line`) any later line that contains one of `secrets` (empty
  /// strings are ignored): the last defence against a credential reaching the log.
  void forbid(std::vector<std::string> secrets);

  /// Appends `run_start`. With `key`, records its `keySha256` and signs `run_end` with it
  /// (the writer keeps its own reference to the key).
  line_ref begin_run(run_info const& info, signing_key const* key = nullptr);
  /// Appends `events` as consecutive lines, under one lock with one write(2). Returns the
  /// last line written (the current head if `events` is empty). The events `run_start`,
  /// `run_end` and `cut` are the writer's and are refused here.
  line_ref append(std::span<event const> events);
  /// Appends one event.
  line_ref append(event const& e);
  /// fdatasync(2): makes the lines written so far durable.
  void sync();
  /// Appends `run_end` (`state`, `exitStatus`, `lines` written by this run including this
  /// one, then `counts` in order), signed when `begin_run` had a key, and syncs. The run
  /// is over: later appends throw.
  line_ref end_run(std::string_view state, int exit_status, boost::json::object const& counts);
  /// The last line this writer wrote (seq 0 before any).
  line_ref head() const;

 private:
  explicit log_writer(std::unique_ptr<detail::writer_state> state);
  std::unique_ptr<detail::writer_state> state_;
};

/// The first problem found in a log: where, and what, in the words of design note §2.1.
struct problem {
  std::uint64_t line = 0;    ///< 1-based line number.
  std::uint64_t offset = 0;  ///< Byte offset of the start of that line in the file.
  std::string what;          ///< E.g. "line 7 was changed: its content does not match its hash".
};

/// A run with a `run_start` and no `run_end` (killed, or still running): not a failure.
struct open_run {
  std::string run;              ///< The run id.
  std::uint64_t first_line = 0; ///< Its `run_start` line.
};

/// What a checked log holds.
struct log_summary {
  std::uint64_t lines = 0;                ///< Complete lines checked.
  std::uint64_t runs = 0;                 ///< `run_start` lines.
  std::uint64_t cuts = 0;                 ///< `cut` lines.
  std::uint64_t signed_ends = 0;          ///< `run_end` lines carrying a signature.
  std::uint64_t signatures_checked = 0;   ///< Signatures verified against a given key.
  std::uint64_t signed_through = 0;       ///< Lines 1..signed_through are covered by a verified signature.
  std::vector<open_run> open_runs;        ///< Runs without `run_end`.
  std::optional<line_ref> head;           ///< The last line, if any.
};

/// Checks a log fed line by line, with no I/O (sans-I/O). Stops at the first problem:
/// after a problem, `feed` returns it again.
class chain_verifier {
 public:
  /// With `keys`, every `run_end` must be signed by one of them (selected by `keySha256`).
  /// With `expected_head`, `finish` fails when that line is missing or has another `h`
  /// (whole lines cut off the end); given up front so that no line's hash is kept.
  explicit chain_verifier(std::vector<public_key> keys = {}, std::optional<line_ref> expected_head = {});
  chain_verifier(chain_verifier&&) noexcept;             ///< Moves the verifier.
  chain_verifier& operator=(chain_verifier&&) noexcept;  ///< Moves the verifier.
  ~chain_verifier();                                     ///< Frees its state.

  /// Checks the next line, which must end with '\n' (a last line without one is reported
  /// as incomplete). Returns the problem, if any.
  std::optional<problem> feed(std::string_view line_with_newline);
  /// Ends the log: returns the first problem, or the expected head's (missing, or another
  /// `h`), if any.
  std::optional<problem> finish();
  /// What was checked so far.
  log_summary const& summary() const noexcept;

 private:
  std::unique_ptr<detail::verifier_state> state_;
};

/// The outcome of `verify_log`.
struct verdict {
  std::optional<problem> failure;  ///< The first problem; none when the log is good.
  log_summary summary;             ///< What was checked.
  /// Whether the log is good.
  bool good() const noexcept { return !failure.has_value(); }
};

/// Checks a log file: takes its lock shared only to read its size, then checks that
/// prefix. Throws `error` (`io`) when the file cannot be read.
verdict verify_log(std::filesystem::path const& file, std::vector<public_key> keys = {},
                   std::optional<line_ref> const& head = {});

/// A complete line handed to `scan_log`'s callback, valid only during the call.
struct line_view {
  std::uint64_t number = 0;            ///< 1-based line number.
  std::string_view text;               ///< The line, without its newline.
  boost::json::object const& object;   ///< The parsed line.
};

/// Calls `each` for every complete line of `file` that parses as a JSON object, in order
/// (a torn tail and unparsable lines are skipped; checking is `verify_log`'s job). Reads
/// the size under a shared lock, like `verify_log`. Throws `error` (`io`).
void scan_log(std::filesystem::path const& file, std::function<void(line_view const&)> const& each);

/// The facts an erasure receipt attests (design note §6). `keySha256` comes from the key
/// and `verification.items` is always 0: a receipt exists only for a clean verification.
struct erasure_receipt {
  std::string user_id;                                      ///< `userId`.
  std::vector<std::string> organization_ids;                ///< `organizationIds`.
  std::string job_id;                                       ///< `jobId`.
  std::chrono::system_clock::time_point requested_at;       ///< `requestedAt` (milliseconds kept).
  std::chrono::system_clock::time_point completed_at;       ///< `completedAt`.
  std::optional<std::int64_t> last_task_completed_time;     ///< `lastTaskCompletedTime`, server epoch ms.
  std::chrono::system_clock::time_point verified_at;        ///< `verifiedAt`.
  std::uint64_t pages = 0;                                  ///< `verification.pages`.
  std::string run;                                          ///< `run`, the run id.
  std::string tool = "velt-gdpr";                           ///< `tool`.
  std::string tool_version;                                 ///< `toolVersion`; empty: this library's version.
  std::string key_sha256;                                   ///< `keySha256`; filled in by `sign_receipt`.
};

/// A receipt's file contents: the canonical JSON line (with its '\n') and the raw 64-byte
/// Ed25519 signature of exactly those bytes.
struct signed_receipt {
  std::string json;                       ///< The `.json` file's bytes.
  std::array<std::byte, 64> signature{};  ///< The `.json.sig` file's bytes.
};

/// Builds the canonical JSON of `receipt` (with `key`'s fingerprint) and signs it.
signed_receipt sign_receipt(erasure_receipt const& receipt, signing_key const& key);

/// Writes `dir/<user_file_stem(user_id)>.json` then `.json.sig`, each atomically (temporary
/// file, fsync, rename), then fsyncs `dir` (created 0700 if missing). Returns the `.json`
/// path. Throws `error` (`io`).
std::filesystem::path write_receipt(std::filesystem::path const& dir, std::string_view user_id,
                                    signed_receipt const& receipt);

/// The outcome of `verify_receipt`.
struct receipt_verdict {
  bool good = false;                      ///< Shape, key and signature all check.
  /// When good: "ID: erased (job J, verified T, N pages, 0 items); signature good (key
  /// abcd…wxyz)". Otherwise the reason, e.g. "signed by key K, not by F".
  std::string what;
  std::optional<erasure_receipt> receipt; ///< The parsed receipt, when its shape is right.
};

/// Checks a receipt's bytes: the JSON shape (`v` 1, `kind`, all members, `items` 0),
/// `keySha256` equal to `key`'s fingerprint, then the signature over every byte of `json`.
receipt_verdict verify_receipt(std::string_view json, std::span<std::byte const> signature,
                               public_key const& key);
/// Reads `json_file` and `signature_file` (default `json_file` + ".sig") and checks them as
/// above. Throws `error` (`io`) when either cannot be read.
receipt_verdict verify_receipt_file(std::filesystem::path const& json_file, public_key const& key,
                                    std::optional<std::filesystem::path> const& signature_file = {});

/// Encoded user ids longer than this are shortened (see `user_file_stem`).
inline constexpr std::size_t max_file_stem_bytes = 200;

/// A user id as a file-name stem (the export's and the receipts' file names). Keeps the
/// bytes `A-Z a-z 0-9 . _ -` and writes every other byte as `%XX` (upper-case hex); a
/// leading `.` is `%2E`, so no name is hidden, `.` or `..`, and none contains `/`. The
/// mapping is one-to-one. Encodings longer than `max_file_stem_bytes` are cut (never inside
/// a `%XX`) and get `~` plus the first 32 hex digits of the id's SHA-256; `~` itself is
/// always encoded, so a shortened name never equals a short id's. Throws
/// std::invalid_argument for an empty id.
std::string user_file_stem(std::string_view user_id);

}  // namespace velt::audit
