// SPDX-License-Identifier: BSL-1.0
// velt::user_data_page: a page of a user's data, kept losslessly.
#include <velt/model.hpp>

#include <utility>

namespace velt {

user_data_page::user_data_page(boost::json::object data,
                               std::optional<std::string> next_page_token, std::size_t index)
    : data_(std::move(data)), next_(std::move(next_page_token)), index_(index) {
  if (next_ && next_->empty()) next_.reset();
}

boost::json::object user_data_page::release_data() noexcept {
  // A moved-from boost::json::object is empty (and keeps its memory resource).
  return std::move(data_);
}

boost::json::array const& user_data_page::feature(std::string_view name) const noexcept {
  static boost::json::array const empty;  // never allocates; shared read-only
  if (auto const* v = data_.if_contains(name); v != nullptr)
    if (auto const* a = v->if_array(); a != nullptr) return *a;
  return empty;
}

user_data_page user_data_page::from_raw(std::shared_ptr<std::string const> body,
                                        std::vector<raw_feature> features,
                                        std::optional<std::string> next_page_token, bool compact,
                                        std::size_t index) {
  user_data_page page({}, std::move(next_page_token), index);
  page.format_ = page_format::raw;
  page.raw_compact_ = compact;
  page.raw_body_ = std::move(body);
  page.raw_ = std::move(features);
  return page;
}

std::size_t user_data_page::item_count() const noexcept {
  std::size_t n = 0;
  for (auto const& f : raw_) n += f.items.size();
  for (auto const& member : data_)
    if (auto const* a = member.value().if_array(); a != nullptr) n += a->size();
  return n;
}

}  // namespace velt
