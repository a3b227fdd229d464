// SPDX-License-Identifier: BSL-1.0
// velt/media.hpp: the files an export's items refer to (attachments, voice comments,
// recordings, transcripts, avatars): where they are found and which URLs may be fetched.
//
// Pure functions, no I/O: `find_media` walks an export's `data` object, `check_url` says
// whether a URL may be downloaded, `redact` makes a URL fit for a log line.
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

/// Media of an export: the fields of Velt's data models that name files, the URL rules of
/// the media downloader, and the redaction of URLs for logs.
namespace velt::media {

/// What becomes of a URL (or inline value) found in an item.
enum class field_policy {
  download,        ///< a stored file: download it into the package
  link_only,       ///< not a file (e.g. a web page): list it, show it as text, never fetch it
  not_downloaded,  ///< a file that is deliberately left out (another person's avatar, an icon)
  inline_data,     ///< the value itself is the file (base64 or a `data:` URL): decode, never fetch
};

/// `"download"`, `"link_only"`, `"not_downloaded"`, `"inline_data"`.
std::string_view to_string(field_policy p) noexcept;

/// One field of Velt's data models that names a file: a row of the one list, `known_fields()`.
///
/// A member matches when its key is `key` and the member that holds its object is named
/// `parent` (for an object inside an array: the member holding the array; for a member
/// of the item itself: the empty name); `parent == "*"` matches any parent.
struct field_rule {
  std::string_view parent;  ///< the holding member's name, `""` (item level) or `"*"` (any)
  std::string_view key;     ///< the member's name
  std::string_view model;   ///< Velt's model that owns the field, e.g. `"Attachment"`
  field_policy policy;      ///< what happens to the value
  /// With policy `download`: only when the object's `userId` is the subject of the export;
  /// otherwise the value is `not_downloaded` (another person's data, GDPR art. 15(4)).
  bool subject_only;
  std::string_view what;    ///< what the field holds, in a few words
  std::string_view source;  ///< where Velt documents the field (URLs, or the reference's name)
};

/// Every field of Velt's data models known to name a file, with its policy and its source.
/// The only list: the package's index, manifest and downloader use these rows.
std::span<field_rule const> known_fields() noexcept;

/// One occurrence of a media value in an item.
struct media_ref {
  std::string feature;  ///< the member of `data`, e.g. `"comments"` (unknown features too)
  std::size_t item = 0;  ///< the index of the item in that feature's array
  /// RFC 6901 JSON Pointer of the value, relative to the item:
  /// `"/comments/0/attachments/1/url"`.
  std::string pointer;
  /// The value as it is in the item: a URL, or for `field_policy::inline_data` the inline
  /// value itself (base64 or a `data:` URL).
  std::string url;
  /// `"field:<model>.<key>"` (a row of `known_fields()`) or `"host"` (any other string
  /// that is an allowed `https` URL).
  std::string rule;
  field_policy policy = field_policy::download;  ///< what becomes of it
  /// @var name
  /// The holding object's `name` member, when it is a string (an attachment's file name).
  /// @var mime_type
  /// The holding object's `mimeType` member, when it is a string.
  std::optional<std::string> name, mime_type;
};

/// Finds every media value in an export's `data` object (feature name -> array of items).
///
/// Every item of every member of `data` is walked, features not known today included, at
/// any depth, in document order. Two kinds of matches:
/// - a member matching a row of `known_fields()` whose value is a non-empty string (for
///   `previewImages`: each non-empty string of the array); reported whatever its URL, so
///   that a refusal can be recorded. A `subject_only` row whose object's `userId` is not
///   `subject_user_id` gives `field_policy::not_downloaded`.
/// - any other string value that `check_url` accepts for `allowed_hosts`: rule `"host"`,
///   policy `download` (files of features not known today). Members matched by a row are
///   never matched again here, so others' avatars stay `not_downloaded`.
///
/// Pure and thread-safe.
std::vector<media_ref> find_media(boost::json::object const& data, std::string_view subject_user_id,
                                  std::span<std::string const> allowed_hosts);

/// Why `url` must not be downloaded from the allowed hosts, or `std::nullopt` when it may.
///
/// Rules: an absolute URL with scheme `https` (any case); no user information; a host
/// name or IP literal with no percent-encoding. Its host (compared case-insensitively) and
/// port (443 when absent) must equal an entry of `allowed_hosts`:
/// - `host`: that host, port 443;
/// - `host:port`: that host and port;
/// - `*.domain` (optionally `:port`): any host ending in `.domain` with at least one more
///   label (`a.domain`, `a.b.domain`; not `domain` itself).
///
/// Reasons: `"not a URL"`, `"not https"`, `"user information in URL"`,
/// `"percent-encoded host"`, `"host not allowed: <host>[:<port>]"`.
std::optional<std::string> check_url(std::string_view url, std::span<std::string const> allowed_hosts);

/// `url` fit for a log line, an error message or a report: the query and fragment (where
/// signed URLs carry their credential) replaced by `?<redacted>`, user information removed,
/// control bytes and spaces percent-encoded. Works on any string, URL or not.
std::string redact(std::string_view url);

}  // namespace velt::media
