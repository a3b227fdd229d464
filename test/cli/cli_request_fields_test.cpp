// SPDX-License-Identifier: BSL-1.0
// --request-field KEY=JSON: parsing (core/request_fields.hpp), and the fields reaching the
// local server with every page request of export and of erase --verify; bad values refused
// with exit status 2 before any I/O.
#include "cli_support.hpp"

#include "core/request_fields.hpp"

namespace velt::test::cli {
namespace {

using velt::gdpr::parse_request_fields;
using velt::gdpr::request_field_error;

/// The message parse_request_fields throws for `specs` ("" when it does not throw).
std::string refusal(std::vector<std::string> const& specs) {
  try {
    parse_request_fields(specs);
  } catch (request_field_error const& e) {
    return e.what();
  }
  return "";
}

TEST(RequestFieldsParse, KeyEqualsAnyJsonValue) {
  auto const o = parse_request_fields({"veltAllOrganizations=true", R"(veltUserIds=["a","b"])",
                                       R"(uniqueId="u=1")", "n=1748972106739", "x=0.1", "nothing=null",
                                       R"(obj={"k":[1,{"z":false}]})", " spaced = [ 1 ] "});
  EXPECT_EQ(o.size(), 8u);
  EXPECT_EQ(o.at("veltAllOrganizations"), true);
  EXPECT_EQ(o.at("veltUserIds"), (boost::json::array{"a", "b"}));
  EXPECT_EQ(o.at("uniqueId"), "u=1");  // split at the first '='
  EXPECT_EQ(o.at("n"), 1748972106739);
  EXPECT_EQ(o.at("x").as_double(), 0.1);
  EXPECT_TRUE(o.at("nothing").is_null());
  EXPECT_EQ(o.at("obj").at("k").at(1).at("z"), false);
  EXPECT_EQ(o.at(" spaced "), (boost::json::array{1}));  // the key as given
  // In the order given.
  EXPECT_EQ(o.begin()->key(), "veltAllOrganizations");
  EXPECT_TRUE(parse_request_fields({}).empty());
}

TEST(RequestFieldsParse, RefusalsNameTheFlagAndTheValue) {
  EXPECT_EQ(refusal({"veltAllOrganizations"}),
            "--request-field 'veltAllOrganizations': expected KEY=JSON, e.g. veltAllOrganizations=true "
            "or uniqueId='\"x\"'");
  EXPECT_EQ(refusal({"=true"}), "--request-field '=true': the key before '=' is empty");
  EXPECT_EQ(refusal({"uniqueId=u-1"}),
            "--request-field 'uniqueId=u-1': the value after '=' is not valid JSON (a string needs "
            "double quotes: uniqueId='\"...\"')");
  EXPECT_EQ(refusal({"a="}), "--request-field 'a=': the value after '=' is not valid JSON (it is empty)");
  EXPECT_EQ(refusal({"a=[1,"}), "--request-field 'a=[1,': the value after '=' is not valid JSON");
  EXPECT_EQ(refusal({"a=1e400"}),
            "--request-field 'a=1e400': the value after '=' is not valid JSON (a number is too large for a double)");
  EXPECT_EQ(refusal({"a=1", "b=2", "a=3"}), "--request-field 'a=3': a is given twice; give each key once");
  EXPECT_EQ(refusal({"organizationId=\"o\""}),
            "--request-field 'organizationId=\"o\"': organizationId is set by velt-gdpr itself (from --org) "
            "and cannot be given");
  EXPECT_NE(refusal({"userId=1"}).find("userId is set by velt-gdpr itself"), std::string::npos);
  EXPECT_NE(refusal({"pageToken=null"}).find("pageToken is set by velt-gdpr itself"), std::string::npos);
  EXPECT_NE(refusal({"caf\xe9=1"}).find("not valid UTF-8"), std::string::npos);
}

mock::server_options recording_server() {
  auto so = small_server(8);
  so.data.empty_user_fraction = 0;
  so.recorded_requests = 10'000;
  return so;
}

TEST(CliRequestFields, ExportSendsThemWithEveryPageRequest) {
  mock::server srv(recording_server());
  temp_dir dir;
  auto const users = srv.user_ids();
  std::size_t multi_page = 0;
  for (auto const& u : users) multi_page += srv.expected_pages(u) > 1 ? 1 : 0;
  ASSERT_GE(multi_page, 2u);
  auto const r = run(export_command(srv, dir / "out",
                                    {"--users-file", users_file(dir, users).string(), "--concurrency", "3",
                                     "--request-field", "veltAllOrganizations=true", "--request-field",
                                     R"(uniqueId="u-1")", R"(--request-field=veltUserIds=["a","b"])"}),
                     credentials_env(srv));
  ASSERT_EQ(r.code, 0) << r.err;
  for (auto const& u : users) EXPECT_TRUE(export_matches(srv, dir / "out", u)) << u;

  auto const seen = srv.recent_requests();
  ASSERT_EQ(seen.size(), srv.stats().requests);
  std::size_t pages = 0;
  for (auto const& u : users) pages += srv.expected_pages(u);
  EXPECT_EQ(seen.size(), pages);
  for (auto const& req : seen) {
    EXPECT_EQ(req.endpoint, wire::endpoint::get_user_data);
    EXPECT_EQ(req.data.at("veltAllOrganizations"), true) << req.data;
    EXPECT_EQ(req.data.at("uniqueId"), "u-1") << req.data;
    EXPECT_EQ(req.data.at("veltUserIds"), (boost::json::array{"a", "b"})) << req.data;
    EXPECT_EQ(req.data.at("organizationId"), boost::json::value(srv.organization_id()));
  }
}

TEST(CliRequestFields, BadValuesExitTwoBeforeAnyIo) {
  mock::server srv(recording_server());
  temp_dir dir;
  struct bad {
    std::vector<std::string> fields;
    std::string says;
  };
  std::vector<bad> const cases{
      {{R"(uniqueId="u-1)"}, R"('uniqueId="u-1': the value after '=' is not valid JSON)"},
      {{"veltAllOrganizations"}, "'veltAllOrganizations': expected KEY=JSON"},
      {{"=true"}, "'=true': the key before '=' is empty"},
      {{"organizationId=\"org-2\""}, "organizationId is set by velt-gdpr itself"},
      {{"userId=\"x\""}, "userId is set by velt-gdpr itself"},
      {{"pageToken=\"x\""}, "pageToken is set by velt-gdpr itself"},
      {{"uniqueId=\"a\"", "veltAllOrganizations=true", "uniqueId=\"b\""}, "uniqueId is given twice"},
  };
  for (auto const& c : cases) {
    std::vector<std::string> args{"--user", srv.user_ids().front()};
    for (auto const& f : c.fields) {
      args.push_back("--request-field");
      args.push_back(f);
    }
    auto const r = run(export_command(srv, dir / "out", args), credentials_env(srv));
    EXPECT_EQ(r.code, 2) << c.says;
    EXPECT_NE(r.err.find("velt-gdpr: error: --request-field '"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "out")) << "nothing is created before the flags are checked";

    // erase --verify refuses them the same way.
    std::vector<std::string> erase_args{"--user", srv.user_ids().front(), "--verify", "--poll-interval", "0.05"};
    erase_args.insert(erase_args.end(), args.begin() + 2, args.end());
    auto const e = run(erase_command(srv, dir, erase_args), credentials_env(srv));
    EXPECT_EQ(e.code, 2) << c.says;
    EXPECT_NE(e.err.find("--request-field"), std::string::npos) << e.err;
    EXPECT_NE(e.err.find(c.says), std::string::npos) << e.err;
  }
  auto const st = srv.stats();
  EXPECT_EQ(st.requests, 0u);
  EXPECT_EQ(st.connections_accepted, 0u);
  EXPECT_TRUE(srv.recent_requests().empty());
}

TEST(CliRequestFields, EraseVerifySendsThemAndOnlyWithVerify) {
  mock::server srv(recording_server());
  temp_dir dir;
  auto const users = srv.user_ids();
  std::vector<std::string> const erased(users.begin(), users.begin() + 4);
  std::vector<std::string> const fields{"--request-field", "veltAllOrganizations=true", "--request-field",
                                        R"(uniqueId="u-1")"};

  // Without --verify nothing fetches users' data: refused, nothing deleted.
  std::vector<std::string> plain{"--users-file", users_file(dir, erased).string(), "--wait"};
  plain.insert(plain.end(), fields.begin(), fields.end());
  auto const refused = run(erase_command(srv, dir, plain), credentials_env(srv));
  EXPECT_EQ(refused.code, 2);
  EXPECT_NE(refused.err.find("--request-field: only --verify fetches"), std::string::npos) << refused.err;
  EXPECT_EQ(srv.stats().requests, 0u);

  std::vector<std::string> verify{"--users-file", users_file(dir, erased).string(), "--batch-size", "2",
                                  "--verify", "--poll-interval", "0.05"};
  verify.insert(verify.end(), fields.begin(), fields.end());
  auto const r = run(erase_command(srv, dir, verify), credentials_env(srv));
  ASSERT_EQ(r.code, 0) << r.err;
  std::size_t gets = 0, deletes = 0;
  for (auto const& req : srv.recent_requests()) {
    if (req.endpoint == wire::endpoint::get_user_data) {
      ++gets;
      EXPECT_EQ(req.data.at("veltAllOrganizations"), true) << req.data;
      EXPECT_EQ(req.data.at("uniqueId"), "u-1") << req.data;
    } else {
      deletes += req.endpoint == wire::endpoint::delete_user_data ? 1 : 0;
      EXPECT_FALSE(req.data.contains("uniqueId")) << "deletion calls and polls do not take them";
    }
  }
  EXPECT_EQ(gets, erased.size());  // verification: one (empty) page per erased user
  EXPECT_EQ(deletes, 2u);
}

}  // namespace
}  // namespace velt::test::cli
