// SPDX-License-Identifier: BSL-1.0
// The media of the media users (data_profile::media_users, media_fault_users): their items
// get URLs on the server's own origin in the fields Velt's models name for files, so that a
// package can download them from the mock. Regular users' items are never touched.
#pragma once

#include "items.hpp"

#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace velt::mock::detail {

/// The id of the n-th media user (1-based): "media-0001"; fault users "media-fault-0001".
std::string media_user_id(std::size_t n, bool faults);

/// Adds media to the `index`-th item of a feature of a media user (`owner.media` is not
/// `none`), with URLs under `owner.media_base` ("https://127.0.0.1:PORT"):
/// - every user object's `photoUrl` (the subject's and other people's) becomes
///   `/media/ok/avatar-<hash of userId>.png`;
/// - comments: every attachment the regular generator made moves to the origin (`url`
///   `/media/ok/<key>.<ext>` by its mimeType, `size` the real one); the first comment also
///   gets an image attachment (`url`, `mimeType`, `name`,
///   `size`, `thumbnailWithPlayIconUrl`), a `commentVoiceUrl` (wav) and a `recorders[]`
///   entry (`videoUrl` mp4, `audioUrl` wav, `thumbnailUrl` png, `videoPlayerUrl` a web
///   page on app.example.com); for fault users the first annotation's first comment also
///   gets one attachment per fault kind, one `http://` URL and one on storage.example.com;
/// - recordings: each attachment likewise (mp4 or webm) and the transcription's
///   `vttFileUrl` (vtt);
/// - reactions: `iconUrl` (png; a client must not download it).
void add_media(boost::json::object& item, feature f, item_owner const& owner, std::size_t index,
               boost::json::storage_ptr const& sp);

}  // namespace velt::mock::detail
