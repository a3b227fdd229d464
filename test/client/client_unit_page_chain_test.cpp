// SPDX-License-Identifier: BSL-1.0
// The page-token chain of a stream (lib/client/page_token_chain.hpp), with no socket: the
// three end forms, indices, tokens sent back byte for byte, and cycles.
#include "client/page_token_chain.hpp"

#include <velt/wire.hpp>

#include <gtest/gtest.h>

namespace velt::detail {
namespace {

// The nextPageToken the decoder finds in a page whose "result" ends with `token_member`.
std::optional<std::string> token_of(std::string const& token_member) {
  std::string const body = R"({"result":{"status":"success","data":{"comments":[]})" +
                           token_member + "}}";
  wire::http_response_view const view{200, body, {}, "application/json"};
  auto page = wire::decode_user_data(view);
  EXPECT_TRUE(page) << page.error().to_string();
  return page ? page->next_page_token() : std::nullopt;
}

TEST(ClientUnitPageChain, AllThreeEndFormsEndTheChain) {
  for (std::string member : {std::string(""), std::string(R"(,"nextPageToken":null)"),
                             std::string(R"(,"nextPageToken":"")")}) {
    page_token_chain chain;
    auto const next = token_of(member);
    auto index = chain.accept(next);
    ASSERT_TRUE(index) << member;
    EXPECT_EQ(*index, 0u);
    EXPECT_TRUE(chain.ended()) << member;
    EXPECT_FALSE(chain.token());
  }
  // The chain itself also ends on "" (whatever the decoder does with it).
  page_token_chain chain;
  ASSERT_TRUE(chain.accept(std::string_view("")));
  EXPECT_TRUE(chain.ended());
  EXPECT_TRUE(ends_chain(std::nullopt));
  EXPECT_TRUE(ends_chain(std::string_view("")));
  EXPECT_FALSE(ends_chain(std::string_view("A")));
}

TEST(ClientUnitPageChain, PagesGetConsecutiveIndicesAndTokensGoBackVerbatim) {
  page_token_chain chain;
  EXPECT_FALSE(chain.token());  // page 0 has no token
  std::string const odd = "bhdwdqwjs298e39e479ddkeuw==329";
  auto const next = token_of(R"(,"nextPageToken":")" + odd + R"(")");
  ASSERT_EQ(next, odd);
  EXPECT_EQ(chain.accept(next).value(), 0u);
  EXPECT_EQ(chain.token(), odd);
  EXPECT_FALSE(chain.ended());
  EXPECT_EQ(chain.accept(std::string_view("B+/=")).value(), 1u);
  EXPECT_EQ(chain.token(), "B+/=");
  EXPECT_EQ(chain.next_index(), 2u);
  EXPECT_EQ(chain.accept(std::nullopt).value(), 2u);
  EXPECT_TRUE(chain.ended());
  EXPECT_EQ(chain.next_index(), 3u);
}

TEST(ClientUnitPageChain, TheSameTokenAgainIsATypedErrorAndTheChainStays) {
  page_token_chain chain;
  ASSERT_TRUE(chain.accept(std::string_view("A")));
  auto again = chain.accept(std::string_view("A"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, make_error_code(errc::malformed_response));
  EXPECT_NE(again.error().message.find("same page token again (page 1)"), std::string::npos)
      << again.error().message;
  EXPECT_EQ(chain.token(), "A");
  EXPECT_EQ(chain.next_index(), 1u);
  EXPECT_FALSE(chain.ended());
}

TEST(ClientUnitPageChain, EveryTokenUsedIsRemembered) {
  page_token_chain chain;
  ASSERT_TRUE(chain.accept(std::string_view("A")));
  ASSERT_TRUE(chain.accept(std::string_view("B")));
  ASSERT_TRUE(chain.accept(std::string_view("C")));
  auto back = chain.accept(std::string_view("A"));  // A, B, C, A
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error().code, make_error_code(errc::malformed_response));
  EXPECT_NE(back.error().message.find("already given (page 3)"), std::string::npos)
      << back.error().message;
  auto to_b = chain.accept(std::string_view("B"));
  ASSERT_FALSE(to_b);
  EXPECT_EQ(chain.token(), "C");
  // The chain goes on when the server gives a new one.
  EXPECT_EQ(chain.accept(std::string_view("D")).value(), 3u);
}

TEST(ClientUnitPageChain, AResumedChainRemembersItsFirstToken) {
  page_token_chain chain(std::string("R"));
  EXPECT_EQ(chain.token(), "R");
  EXPECT_EQ(chain.next_index(), 0u);
  EXPECT_FALSE(chain.accept(std::string_view("R")));
  ASSERT_TRUE(chain.accept(std::string_view("S")));
  auto back = chain.accept(std::string_view("R"));
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().message.find("already given"), std::string::npos);
}

}  // namespace
}  // namespace velt::detail
