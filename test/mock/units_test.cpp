// SPDX-License-Identifier: BSL-1.0
// Sans-I/O parts of the mock server: JSON writing, page tokens, the data set, fault
// matching, fault specs, delivery plans, deletion jobs and certificate generation.
#include "api_handler.hpp"
#include "certificates.hpp"
#include "data_set.hpp"
#include "delete_jobs.hpp"
#include "delivery.hpp"
#include "fault_plan.hpp"
#include "json_writer.hpp"
#include "page_token.hpp"
#include "rng.hpp"

#include <velt/mock/options.hpp>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <charconv>
#include <cmath>
#include <cstring>

namespace velt::mock {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

TEST(MockJsonWriter, WritesLikeJavaScript) {
  json::object o;
  o["pin"] = 0.4375;
  o["precise"] = 123.456789012345;
  o["epoch"] = std::int64_t{1748972106739};
  o["integral"] = detail::json_number(2.0);
  o["text"] = "a\"b\\c\n\x01 é 😀";
  EXPECT_EQ(detail::to_json(o),
            R"({"pin":0.4375,"precise":123.456789012345,"epoch":1748972106739,"integral":2,)"
            R"("text":"a\"b\\c\n\u0001 é 😀"})");
}

TEST(MockJsonWriter, DoublesRoundTripExactly) {
  detail::rng r(42);
  for (int i = 0; i < 20000; ++i) {
    double const d = std::ldexp(1.0 + r.real(), static_cast<int>(r.between(0, 2000)) - 1000);
    std::string out;
    detail::write_json(out, d);
    double back = 0;
    auto const [end, ec] = std::from_chars(out.data(), out.data() + out.size(), back);
    ASSERT_EQ(ec, std::errc{}) << out;
    ASSERT_EQ(end, out.data() + out.size()) << out;
    ASSERT_EQ(std::memcmp(&back, &d, sizeof d), 0) << out;
  }
}

TEST(MockPageToken, HasTheDocumentedShapeAndVerifies) {
  detail::page_token_signer const s("secret");
  std::string const t = s.make("org-1", "user-0001", 3);
  EXPECT_NE(t.find('+'), std::string::npos);
  EXPECT_NE(t.find('/'), std::string::npos);
  EXPECT_NE(t.find("=="), std::string::npos);
  EXPECT_EQ(t.back(), '3');
  EXPECT_EQ(s.verify("org-1", "user-0001", t), std::optional<std::size_t>(3));
  EXPECT_EQ(s.verify("org-1", "user-0002", t), std::nullopt);
  EXPECT_EQ(s.verify("org-2", "user-0001", t), std::nullopt);
  EXPECT_EQ(detail::page_token_signer("other").verify("org-1", "user-0001", t), std::nullopt);
}

TEST(MockPageToken, AnyChangedCharacterIsRejected) {
  detail::page_token_signer const s("secret");
  std::string const t = s.make("org-1", "user-0001", 12);
  for (std::size_t i = 0; i < t.size(); ++i) {
    for (char c : std::string_view("A/+=09z")) {
      if (t[i] == c) continue;
      std::string bad = t;
      bad[i] = c;
      EXPECT_EQ(s.verify("org-1", "user-0001", bad), std::nullopt) << bad;
    }
  }
  EXPECT_EQ(s.verify("org-1", "user-0001", t + "0"), std::nullopt);
  EXPECT_EQ(s.verify("org-1", "user-0001", t.substr(1)), std::nullopt);
  EXPECT_EQ(s.verify("org-1", "user-0001", "bhdwdqwjs298e39e479ddkeuw==329"), std::nullopt);
  EXPECT_EQ(s.verify("org-1", "user-0001", ""), std::nullopt);
}

TEST(MockDataSet, ProfileShapesTheUsers) {
  data_profile p;
  p.users = 40;
  p.heavy_users = 2;
  p.heavy_items = 450;
  p.empty_user_fraction = 0.25;
  p.unusual_user_ids = 3;
  detail::data_set const d(p);
  ASSERT_EQ(d.users().size(), 43u);
  EXPECT_EQ(d.users()[0].id, "user-0001");
  EXPECT_EQ(d.users()[39].id, "user-0040");
  EXPECT_EQ(d.users()[40].id, "user with space");
  std::size_t empty = 0, heavy = 0, with_empty_page = 0, middle = 0;
  for (auto const& u : d.users()) {
    if (u.items() == 0) ++empty;
    if (u.heavy) {
      ++heavy;
      EXPECT_GE(u.counts[0], 450u);
      EXPECT_NE(u.counts[0], u.counts[2]) << "features run out at different pages";
    }
    if (u.empty_page) {
      ++with_empty_page;
      if (*u.empty_page + 1 < u.pages()) ++middle;
    }
    EXPECT_NE(u.end, end_of_data::mixed);
  }
  EXPECT_EQ(empty, 10u);
  EXPECT_EQ(heavy, 2u);
  EXPECT_GE(with_empty_page, 2u);
  EXPECT_GE(middle, 1u);
  EXPECT_EQ(d.users()[0].end, end_of_data::absent);
  EXPECT_EQ(d.users()[1].end, end_of_data::null);
  EXPECT_EQ(d.users()[2].end, end_of_data::empty);
  EXPECT_EQ(d.find("user-0007"), &d.users()[6]);
  EXPECT_EQ(d.find("user-0041"), nullptr);
}

TEST(MockDataSet, PagesPartitionTheItems) {
  data_profile p;
  p.users = 12;
  p.page_size = 7;
  p.max_items = 30;
  detail::data_set const d(p);
  for (auto const& u : d.users()) {
    std::array<std::size_t, detail::feature_count> seen{};
    for (std::size_t page = 0; page < u.pages(); ++page) {
      auto const s = d.slice(u, page);
      for (std::size_t f = 0; f < detail::feature_count; ++f) {
        EXPECT_EQ(s.first[f], seen[f]) << u.id << " page " << page;
        EXPECT_LE(s.last[f] - s.first[f], 7u);
        seen[f] = s.last[f];
      }
    }
    for (std::size_t f = 0; f < detail::feature_count; ++f) EXPECT_EQ(seen[f], u.counts[f]) << u.id;
  }
}

TEST(MockDataSet, ItemsAreDeterministicAndRealistic) {
  data_profile p;
  detail::data_set const a(p), b(p);
  auto const* u = a.find("user-0020");  // heavy
  ASSERT_NE(u, nullptr);
  std::string const text = detail::to_json(a.page_data(*u, 0));
  EXPECT_EQ(text, detail::to_json(b.page_data(*b.find("user-0020"), 0)));
  EXPECT_GT(text.size(), 100u * 1024) << "a full page is hundreds of KiB";
  EXPECT_LT(text.size(), 2u * 1024 * 1024);
  for (std::string_view needle : {"\"annotationId\"", "\"commentId\"", "\"notifyUsers\"", "\"attachments\"",
                                  "\\u0000", "😀", "שלום", "\"recordingType\""}) {
    EXPECT_NE(text.find(needle), std::string::npos) << needle;
  }
  data_profile other = p;
  other.seed = 2;
  detail::data_set const c(other);
  EXPECT_NE(text, detail::to_json(c.page_data(*c.find("user-0020"), 0)));
}

detail::request_facts facts(std::uint64_t n, std::vector<std::string> const& users = {},
                            std::optional<wire::endpoint> e = wire::endpoint::get_user_data,
                            std::optional<std::size_t> page = 0) {
  return detail::request_facts{n, e, users, page};
}

TEST(MockFaultPlan, FiltersSelectRequests) {
  std::vector<std::string> const u1{"user-0001"}, u2{"user-0002"};
  fault f;
  f.kind = fault_kind::unavailable;
  f.user_id = "user-0002";
  f.page_index = 1;
  f.endpoint = wire::endpoint::get_user_data;
  EXPECT_FALSE(detail::fault_plan::matches(f, facts(1, u1, wire::endpoint::get_user_data, 1)));
  EXPECT_FALSE(detail::fault_plan::matches(f, facts(1, u2, wire::endpoint::get_user_data, 0)));
  EXPECT_FALSE(detail::fault_plan::matches(f, facts(1, u2, wire::endpoint::delete_user_data, std::nullopt)));
  EXPECT_TRUE(detail::fault_plan::matches(f, facts(1, u2, wire::endpoint::get_user_data, 1)));
  fault g;
  g.nth_request = 3;
  EXPECT_FALSE(detail::fault_plan::matches(g, facts(2)));
  EXPECT_TRUE(detail::fault_plan::matches(g, facts(3, {}, std::nullopt, std::nullopt)));
}

TEST(MockFaultPlan, ProbabilityIsDeterministicAndMaxTimesHolds) {
  auto count = [](std::uint64_t seed) {
    detail::fault_plan plan(seed);
    fault f;
    f.kind = fault_kind::throttle_429;
    f.probability = 0.25;
    plan.add(f);
    std::string fired;
    for (std::uint64_t n = 1; n <= 4000; ++n) fired += plan.decide(facts(n)).action ? '1' : '0';
    return fired;
  };
  std::string const a = count(7);
  EXPECT_EQ(a, count(7));
  EXPECT_NE(a, count(8));
  auto const ones = static_cast<double>(std::count(a.begin(), a.end(), '1'));
  EXPECT_NEAR(ones / 4000.0, 0.25, 0.03);

  detail::fault_plan plan(1);
  fault f;
  f.kind = fault_kind::chunked;
  f.max_times = 2;
  plan.add(f);
  EXPECT_TRUE(plan.decide(facts(1)).action);
  EXPECT_TRUE(plan.decide(facts(2)).action);
  EXPECT_FALSE(plan.decide(facts(3)).action);
}

TEST(MockFaultPlan, LatenciesAddUpAndTheFirstActionWins) {
  detail::fault_plan plan(1);
  plan.set_latency(10ms, 0ms);
  fault l;
  l.kind = fault_kind::latency;
  l.latency = 20ms;
  l.jitter = 5ms;
  plan.add(l);
  fault a;
  a.kind = fault_kind::http_error_html;
  plan.add(a);
  fault b;
  b.kind = fault_kind::throttle_429;
  plan.add(b);
  auto const d = plan.decide(facts(1));
  EXPECT_GE(d.delay, 30ms);
  EXPECT_LE(d.delay, 35ms);
  ASSERT_TRUE(d.action);
  EXPECT_EQ(d.action->kind, fault_kind::http_error_html);
  EXPECT_EQ(d.fired.size(), 2u);
  plan.clear();
  plan.set_latency(0ms, 0ms);
  EXPECT_EQ(plan.decide(facts(2)).delay, 0ms);
  fault bad;
  bad.probability = 1.5;
  EXPECT_THROW(plan.add(bad), std::invalid_argument);
}

TEST(MockFaultSpec, ParsesAndPrints) {
  fault const f = parse_fault("throttle_429,p=0.1,retry_after=2,user=user-0003,page=1,nth=4,times=2,endpoint=get");
  EXPECT_EQ(f.kind, fault_kind::throttle_429);
  EXPECT_DOUBLE_EQ(f.probability, 0.1);
  EXPECT_EQ(f.retry_after, "2");
  EXPECT_EQ(f.user_id, "user-0003");
  EXPECT_EQ(f.page_index, 1u);
  EXPECT_EQ(f.nth_request, 4u);
  EXPECT_EQ(f.max_times, 2u);
  EXPECT_EQ(f.endpoint, wire::endpoint::get_user_data);
  fault const g = parse_fault(R"(kind=resource_exhausted,retry_after="Wed, 21 Oct 2015 07:28:00 GMT")");
  EXPECT_EQ(g.retry_after, "Wed, 21 Oct 2015 07:28:00 GMT");
  fault const h = parse_fault("kind=slow_drip,latency=15,jitter=3,drip_bytes=100,status=502,header_bytes=9");
  EXPECT_EQ(h.latency, 15ms);
  EXPECT_EQ(h.drip_bytes, 100u);
  for (fault const& x : {f, g, h}) {
    fault const y = parse_fault(to_string(x));
    EXPECT_EQ(to_string(y), to_string(x));
  }
  for (int k = 0; k <= static_cast<int>(fault_kind::oversized_headers); ++k) {
    auto const kind = static_cast<fault_kind>(k);
    EXPECT_EQ(fault_kind_from_string(to_string(kind)), kind);
  }
  EXPECT_THROW(parse_fault("nonsense"), std::invalid_argument);
  EXPECT_THROW(parse_fault("latency,p=2"), std::invalid_argument);
  EXPECT_THROW(parse_fault("latency,colour=red"), std::invalid_argument);
  EXPECT_THROW(parse_fault("p=0.5"), std::invalid_argument);
  EXPECT_THROW(parse_fault("latency,page=x"), std::invalid_argument);
  EXPECT_EQ(parse_fault("throttle_429,retry_after=none").retry_after, "");
}

TEST(MockDelivery, PlansEachTransportFault) {
  using op = detail::delivery_step::op;
  detail::api_response r;
  r.body = std::make_shared<std::string const>(std::string(1000, 'x'));
  auto plain = detail::plan_delivery(r, std::nullopt, true);
  EXPECT_TRUE(plain.head.starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_NE(plain.head.find("Content-Length: 1000\r\n"), std::string::npos);
  ASSERT_EQ(plain.steps.size(), 1u);
  EXPECT_EQ(plain.steps[0].to, plain.total());

  auto with = [&](fault_kind k) {
    fault f;
    f.kind = k;
    f.header_bytes = 5000;
    return detail::plan_delivery(r, f, true);
  };
  auto const trunc = with(fault_kind::truncated_body);
  EXPECT_EQ(trunc.steps.front().to, trunc.head.size() + 500);
  EXPECT_EQ(trunc.steps.back().kind, op::close_clean);
  EXPECT_FALSE(trunc.complete);
  auto const reset = with(fault_kind::reset_mid_body);
  EXPECT_EQ(reset.steps.back().kind, op::reset);
  auto const drip = with(fault_kind::slow_drip);
  EXPECT_GE(drip.steps.size(), 16u * 2);
  auto const chunked = with(fault_kind::chunked);
  EXPECT_NE(chunked.head.find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_EQ(chunked.head.find("Content-Length"), std::string::npos);
  EXPECT_TRUE(chunked.body->ends_with("0\r\n\r\n"));
  auto const big = with(fault_kind::oversized_headers);
  EXPECT_GT(big.head.size(), 5000u);
  auto const close = with(fault_kind::connection_close);
  EXPECT_NE(close.head.find("Connection: close"), std::string::npos);
  EXPECT_FALSE(close.keep_alive);
  auto const cbr = with(fault_kind::close_before_response);
  ASSERT_EQ(cbr.steps.size(), 1u);
  EXPECT_EQ(cbr.steps[0].kind, op::close_abrupt);
}

TEST(MockDelivery, FaultResponses) {
  auto const now = std::chrono::system_clock::now();
  fault f;
  f.kind = fault_kind::resource_exhausted;
  f.retry_after = "+120";
  auto const re = detail::fault_response(f, nullptr, now);
  EXPECT_EQ(re.status, 429u);
  ASSERT_EQ(re.headers.size(), 1u);
  EXPECT_EQ(re.headers[0].second, detail::http_date(now + std::chrono::seconds(120)));
  EXPECT_TRUE(re.headers[0].second.ends_with(" GMT"));
  f.kind = fault_kind::malformed_json;
  detail::api_response real;
  real.body = std::make_shared<std::string const>(R"({"result":{"status":"success"}})");
  auto const mj = detail::fault_response(f, &real, now);
  boost::system::error_code ec;
  (void)json::parse(*mj.body, ec);
  EXPECT_TRUE(ec);
  EXPECT_EQ(detail::http_date(std::chrono::system_clock::from_time_t(784111777)), "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(MockDeleteJobs, TasksCompleteOverTime) {
  detail::delete_registry jobs(1, "org-1", 3, 100ms);
  auto const t0 = std::chrono::system_clock::now();
  std::string const id = jobs.queue({"user-0001"}, {}, t0);
  EXPECT_EQ(id.size(), 20u);
  EXPECT_TRUE(std::all_of(id.begin(), id.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); }));
  auto p = jobs.status(id, t0 + 50ms);
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->completed);
  EXPECT_EQ(p->tasks_left, 3u);
  EXPECT_FALSE(p->last_task_completed_ms);
  p = jobs.status(id, t0 + 250ms);
  EXPECT_EQ(p->tasks_left, 1u);
  EXPECT_FALSE(jobs.is_deleted("user-0001", t0 + 250ms));
  p = jobs.status(id, t0 + 300ms);
  EXPECT_TRUE(p->completed);
  EXPECT_EQ(*p->last_task_completed_ms,
            std::chrono::duration_cast<std::chrono::milliseconds>((t0 + 300ms).time_since_epoch()).count());
  EXPECT_TRUE(jobs.is_deleted("user-0001", t0 + 300ms));
  EXPECT_FALSE(jobs.status("nope", t0));
  std::string const other = jobs.queue({"user-0002"}, {"org-2"}, t0);
  EXPECT_NE(other, id);
  EXPECT_FALSE(jobs.is_deleted("user-0002", t0 + 10s)) << "another organization's deletion";
}

TEST(MockApiHandler, RoutesPaths) {
  EXPECT_EQ(detail::match_api_path("/v2/users/data/get")->first, wire::endpoint::get_user_data);
  EXPECT_EQ(detail::match_api_path("/v1/users/data/delete/status")->second, api_version::v1);
  EXPECT_FALSE(detail::match_api_path("/v3/users/data/get"));
  EXPECT_FALSE(detail::match_api_path("/v2/users/data/get/"));
  EXPECT_FALSE(detail::match_api_path("/v2/users/data"));
}

std::string pem_cert_text(std::string const& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (x == nullptr) return {};
  BIO* out = BIO_new(BIO_s_mem());
  X509_print(out, x);
  char* data = nullptr;
  long const n = BIO_get_mem_data(out, &data);
  std::string text(data, static_cast<std::size_t>(n));
  BIO_free(out);
  X509_free(x);
  return text;
}

TEST(MockCertificates, CaAndServerCertificate) {
  auto const c = detail::generate_certificates({"127.0.0.1", "localhost"}, false);
  std::string const ca = pem_cert_text(c.ca_pem);
  std::string const srv = pem_cert_text(c.cert_pem);
  EXPECT_NE(ca.find("CA:TRUE"), std::string::npos);
  EXPECT_NE(srv.find("CA:FALSE"), std::string::npos);
  EXPECT_NE(srv.find("DNS:localhost"), std::string::npos);
  EXPECT_NE(srv.find("IP Address:127.0.0.1"), std::string::npos);
  EXPECT_NE(srv.find("TLS Web Server Authentication"), std::string::npos);
  EXPECT_NE(c.key_pem.find("PRIVATE KEY"), std::string::npos);
}

}  // namespace
}  // namespace velt::mock
