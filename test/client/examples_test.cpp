// The examples, run as a user would run them, against the in-process mock server.
#include "support.hpp"
#include "../support/subprocess.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <velt/wire.hpp>

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

}  // namespace
}  // namespace velt::test
