// SPDX-License-Identifier: BSL-1.0
// The one list of the fields of Velt's data models that name files (design note
// docs/design/access-package.md §3). A field is added here, with its source, or nowhere.
#include <velt/media.hpp>

#include <array>

namespace velt::media {

namespace {

constexpr std::string_view attachment_model =
    "https://app.unpkg.com/@veltdev/sdk@4.3.0/files/app/models/data/attachment.model.d.ts";
constexpr std::string_view attachment_url =
    "https://app.unpkg.com/@veltdev/sdk@4.3.0/files/app/models/data/attachment.model.d.ts; "
    "https://docs.velt.dev/api-reference/rest-apis/v2/recordings/get-recordings";
constexpr std::string_view attachment_model_5 =
    "https://app.unpkg.com/@veltdev/types@5.0.0-beta.1/files/app/models/data/attachment.model.d.ts";
constexpr std::string_view recorder_model = "https://docs.velt.dev/api-reference/models/Recorder";
constexpr std::string_view comment_model =
    "https://docs.velt.dev/api-reference/sdk/models/data-models (Comment); "
    "https://app.unpkg.com/@veltdev/types@5.0.0-beta.1/files/app/models/data/comment.data.model.d.ts";
constexpr std::string_view transcription_model =
    "https://app.unpkg.com/@veltdev/types@4.7.1-beta.7/files/app/models/data/transcription.data.model.d.ts";
constexpr std::string_view api_reference = "velt-gdpr-api.md, the project's API reference (Velt data models)";
constexpr std::string_view user_model = "https://docs.velt.dev/users/overview";

// clang-format off
constexpr std::array<field_rule, 15> rows{{
  {"attachments",  "url",                      "Attachment",    field_policy::download,       false,
   "the attached file", attachment_url},
  {"attachments",  "thumbnailWithPlayIconUrl", "Attachment",    field_policy::download,       false,
   "thumbnail image with a play icon", attachment_model},
  {"attachments",  "thumbnail",                "Attachment",    field_policy::inline_data,    false,
   "thumbnail image in base64", attachment_model},
  {"attachments",  "previewImages",            "Attachment",    field_policy::download,       false,
   "preview image URLs", attachment_model_5},
  {"*",            "commentVoiceUrl",          "Comment",       field_policy::download,       false,
   "voice comment recording", comment_model},
  {"recorders",    "videoUrl",                 "RecordedData",  field_policy::download,       false,
   "recorded video", recorder_model},
  {"recorders",    "audioUrl",                 "RecordedData",  field_policy::download,       false,
   "recorded audio", recorder_model},
  {"recorders",    "thumbnailUrl",             "RecordedData",  field_policy::download,       false,
   "recording thumbnail", recorder_model},
  {"recorders",    "thumbnailWithPlayIconUrl", "RecordedData",  field_policy::download,       false,
   "recording thumbnail with a play icon", recorder_model},
  {"recorders",    "videoPlayerUrl",           "RecordedData",  field_policy::link_only,      false,
   "web page that plays the video (not a file)", recorder_model},
  {"transcription", "vttUrl",                  "Transcription", field_policy::download,       false,
   "subtitles (WebVTT)", transcription_model},
  {"transcription", "srtUrl",                  "Transcription", field_policy::download,       false,
   "subtitles (SRT)", transcription_model},
  {"transcription", "vttFileUrl",              "Transcription", field_policy::download,       false,
   "subtitles (WebVTT); named by the API reference, not found in Velt's typings", api_reference},
  {"*",            "photoUrl",                 "User",          field_policy::download,       true,
   "avatar (downloaded for the subject only)", user_model},
  {"*",            "iconUrl",                  "Reaction",      field_policy::not_downloaded, false,
   "reaction icon (not personal data)", api_reference},
}};
// clang-format on

}  // namespace

std::span<field_rule const> known_fields() noexcept { return rows; }

std::string_view to_string(field_policy p) noexcept {
  switch (p) {
    case field_policy::download: return "download";
    case field_policy::link_only: return "link_only";
    case field_policy::not_downloaded: return "not_downloaded";
    case field_policy::inline_data: return "inline_data";
  }
  return "download";
}

}  // namespace velt::media
