// SPDX-License-Identifier: BSL-1.0
// The masking of secrets in text a server sent back (lib/client/redaction.hpp), alone.
// (HardeningRedaction.* checks the same rules through client_impl, HardeningSecrets.* end to
// end.)
#include "client/redaction.hpp"

#include <gtest/gtest.h>

namespace velt::detail {
namespace {

std::string masked(std::string text, std::string_view secret) {
  redact(text, secret);
  return text;
}

constexpr std::string_view key = "AK7f3Q9zLm2Xw8Rt5Vb1nP6y";

TEST(ClientUnitRedaction, WholeOccurrencesAreMasked) {
  EXPECT_EQ(masked("k=AK7f3Q9zLm2Xw8Rt5Vb1nP6y rest", key), "k=[redacted] rest");
  EXPECT_EQ(masked("AK7f3Q9zLm2Xw8Rt5Vb1nP6yAK7f3Q9zLm2Xw8Rt5Vb1nP6y", key), "[redacted][redacted]");
  EXPECT_EQ(masked("nothing here", key), "nothing here");
  EXPECT_EQ(masked("", key), "");
}

TEST(ClientUnitRedaction, AnEmptySecretChangesNothing) {
  EXPECT_EQ(masked("some text", ""), "some text");
}

TEST(ClientUnitRedaction, ShortSecretsAreMaskedOnlyWhole) {
  // Under 8 bytes a prefix could occur by chance: only whole occurrences go.
  EXPECT_EQ(masked("abc12 and abc1", "abc12"), "[redacted] and abc1");
}

TEST(ClientUnitRedaction, AnEchoCutShortIsMaskedToTheNextDelimiter) {
  EXPECT_EQ(masked("k=AK7f3Q9zLm2X... rest", key), "k=[redacted] rest");
  EXPECT_EQ(masked(R"({"m":"AK7f3Q9z"})", key), R"({"m":"[redacted]"})");
  EXPECT_EQ(masked("k=AK7f3Q9z", key), "k=[redacted]");
  EXPECT_EQ(masked("<p>AK7f3Q9zLm</p>", key), "<p>[redacted]</p>");
}

TEST(ClientUnitRedaction, ReEncodedEchoesAreMasked) {
  // From the first 8 bytes on, what matches the secret re-encoded is masked too.
  std::string_view const quoted = R"(AK7f3Q9z"Lm2</x>)";
  // JSON escapes.
  EXPECT_EQ(masked(R"(m=AK7f3Q9z\"Lm2<\/x> rest)", quoted), "m=[redacted] rest");
  EXPECT_EQ(masked(R"(m=AK7f3Q9z\u0022Lm2\u003c/x\u003e rest)", quoted), "m=[redacted] rest");
  // HTML entities, named and numeric.
  EXPECT_EQ(masked("m=AK7f3Q9z&quot;Lm2&lt;/x&gt; rest", quoted), "m=[redacted] rest");
  EXPECT_EQ(masked("m=AK7f3Q9z&#34;Lm2&#60;/x&#x3e; rest", quoted), "m=[redacted] rest");
}

TEST(ClientUnitRedaction, ASecretWithDelimitersLeavesNoTail) {
  // A header value may hold spaces and quotes: the mask covers at least the secret's length
  // before looking for the next delimiter.
  std::string_view const spaced = "AK7f3Q9z \"Lm2Xw8'Rt5Vb1nP6y";
  EXPECT_EQ(masked("k=AK7f3Q9z \"Lm2Xw8'Rt5Vb1nP6y rest", spaced), "k=[redacted] rest");
  EXPECT_EQ(masked("k=AK7f3Q9z \"Lm2X...", spaced), "k=[redacted]");
  EXPECT_EQ(masked("k=AK7f3Q9z &#34;Lm2Xw8&#x27;Rt5Vb1nP6y&gt;", spaced), "k=[redacted]&gt;");
}

TEST(ClientUnitRedaction, EachSecretIsMaskedOnItsOwn) {
  std::string text = "key=AK7f3Q9zLm2Xw8Rt5Vb1nP6y token=TKq4Jd8HYe3ZrU5sQ";
  redact(text, key);
  redact(text, "TKq4Jd8HYe3ZrU5sQ");
  EXPECT_EQ(text, "key=[redacted] token=[redacted]");
  EXPECT_EQ(redaction_mask, "[redacted]");
}

}  // namespace
}  // namespace velt::detail
