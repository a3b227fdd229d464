// SPDX-License-Identifier: BSL-1.0
// The examples, run as a user would run them, against the in-process mock server.
#include "support.hpp"
#include "../support/subprocess.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <velt/wire.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <unistd.h>

namespace velt::test {
namespace {
namespace asio = boost::asio;
namespace http = boost::beast::http;

std::vector<std::string> env_for(mock::server const& srv) {
  return {"VELT_BASE_URL=" + srv.url(), "VELT_CA_FILE=" + srv.ca_file().string(),
          "VELT_API_KEY=" + srv.api_key(), "VELT_AUTH_TOKEN=" + srv.auth_token()};
}

mock::server_options example_data() {
  mock::server_options so;
  so.data.users = 4;
  so.data.min_items = 120;
  so.data.max_items = 260;
  so.data.empty_user_fraction = 0;
  so.data.heavy_users = 0;
  return so;
}

TEST(Examples, FetchUserPrintsEveryPage) {
  mock::server srv(example_data());
  auto const user = srv.user_ids()[0];
  subprocess p({VELT_EXAMPLE_FETCH_USER, srv.organization_id(), user}, env_for(srv));
  std::string out = p.read_all();
  EXPECT_EQ(p.wait(), 0);
  std::size_t items = 0;
  for (auto const& [k, v] : expected(srv, user)) items += v.as_array().size();
  EXPECT_NE(out.find("done: " + std::to_string(srv.expected_pages(user)) + " pages, " +
                     std::to_string(items) + " items"),
            std::string::npos)
      << out;
}

TEST(Examples, EraseUserDeletesAndReports) {
  auto so = example_data();
  so.delete_task_duration = std::chrono::milliseconds(20);
  mock::server srv(so);
  auto const user = srv.user_ids()[0];
  subprocess p({VELT_EXAMPLE_ERASE_USER, srv.organization_id(), user}, env_for(srv));
  std::string out = p.read_all();
  EXPECT_EQ(p.wait(), 0);
  EXPECT_NE(out.find("queued job "), std::string::npos) << out;
  EXPECT_NE(out.find(" complete"), std::string::npos) << out;
  EXPECT_EQ(srv.user_summaries()[0].deleted, true);
}

TEST(Examples, ExportInServerStreamsPagesToItsClient) {
  mock::server srv(example_data());
  auto const user = srv.user_ids()[1];
  subprocess p({VELT_EXAMPLE_EXPORT_IN_SERVER, "--once"}, env_for(srv));
  auto line = p.read_line();
  ASSERT_TRUE(line);
  auto const colon = line->rfind(':');
  ASSERT_NE(colon, std::string::npos) << *line;
  std::string const port = line->substr(colon + 1);

  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  boost::beast::tcp_stream s(io);
  s.connect(resolver.resolve("127.0.0.1", port));
  http::request<http::empty_body> req{http::verb::get,
                                      "/export/" + srv.organization_id() + "/" + user, 11};
  req.set(http::field::host, "127.0.0.1");
  req.keep_alive(false);
  http::write(s, req);
  boost::beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(s, buf, res);
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_TRUE(res.chunked());

  boost::json::object merged;
  std::size_t lines = 0;
  std::istringstream body(res.body());
  for (std::string l; std::getline(body, l);) {
    auto v = velt::wire::parse_json(l).value().as_object();  // exact doubles
    ASSERT_FALSE(v.contains("error")) << l;
    EXPECT_EQ(v.at("index").as_int64(), static_cast<std::int64_t>(lines));
    ++lines;
    for (auto const& [k, items] : v.at("data").as_object()) {
      auto& t = merged[k];
      if (!t.is_array()) t = boost::json::array();
      for (auto const& it : items.as_array()) t.as_array().push_back(it);
    }
  }
  EXPECT_EQ(lines, srv.expected_pages(user));
  EXPECT_TRUE(same_export(expected(srv, user), merged));
  EXPECT_EQ(p.wait(), 0);
}

TEST(Examples, BatchExportPrintsOneExactLinePerUser) {
  auto so = example_data();
  so.data.users = 12;
  so.data.extra_feature = true;  // an unknown feature must come through too
  mock::server srv(so);
  auto const users = srv.user_ids();
  std::string const refused = users[5];
  mock::fault f;
  f.kind = mock::fault_kind::http_error_json;
  f.http_status = 404;
  f.endpoint = wire::endpoint::get_user_data;
  f.user_id = refused;
  srv.add_fault(f);
  auto const dir = std::filesystem::temp_directory_path() / ("velt-batch-example-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string file_text = "# users\n\n";
  for (auto const& u : users) file_text += "  " + u + "\n";
  { std::ofstream(dir / "users.txt") << file_text; }
  std::string const err_file = (dir / "stderr").string();
  std::string const cmd = std::string("exec '") + VELT_EXAMPLE_BATCH_EXPORT + "' --base-url '" + srv.url() +
                          "' --ca-file '" + srv.ca_file().string() + "' --org '" + srv.organization_id() +
                          "' --users-file '" + (dir / "users.txt").string() + "' --concurrency 3 2>'" + err_file + "'";
  auto env = env_for(srv);
  subprocess p({"/bin/sh", "-c", cmd}, env);
  std::string const out = p.read_all();
  EXPECT_EQ(p.wait(), 3);  // one user failed
  std::ifstream err_in(err_file);
  std::string const err((std::istreambuf_iterator<char>(err_in)), std::istreambuf_iterator<char>());
  // The mock answers this 404 with the status its gateway table gives a 404.
  EXPECT_NE(err.find("user " + refused + " failed: NOT_FOUND (HTTP 404)"), std::string::npos) << err;

  std::set<std::string> seen;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    // Numbers exactly as the server wrote them (Boost.JSON's default parse is not exact).
    auto const v = wire::parse_json(line).value().as_object();
    std::string const user(v.at("userId").as_string());
    EXPECT_EQ(v.at("organizationId").as_string(), srv.organization_id());
    EXPECT_EQ(v.at("pages").to_number<std::size_t>(), srv.expected_pages(user)) << user;
    auto const& data = v.at("data").as_object();
    for (char const* k : known_features) EXPECT_TRUE(data.contains(k)) << user << " " << k;
    EXPECT_TRUE(same_export(expected(srv, user), data)) << user;
    EXPECT_TRUE(seen.insert(user).second) << "twice: " << user;
  }
  EXPECT_EQ(seen.size(), users.size() - 1);
  EXPECT_FALSE(seen.contains(refused));
  std::filesystem::remove_all(dir);
}

TEST(Examples, BatchExportRefusesBadArgumentsBeforeAnyRequest) {
  mock::server srv(example_data());
  subprocess p({VELT_EXAMPLE_BATCH_EXPORT, "--base-url", srv.url(), "--org", srv.organization_id(),
                "--users-file", "/nonexistent/users", "--concurrency", "0"},
               env_for(srv));
  (void)p.read_all();
  EXPECT_EQ(p.wait(), 2);
  EXPECT_EQ(srv.stats().requests, 0u);
}

}  // namespace
}  // namespace velt::test
