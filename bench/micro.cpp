// SPDX-License-Identifier: BSL-1.0
// velt-bench-micro: Google Benchmark micro benchmarks of the per-page work.
//
// The page is a real full page of the local server (velt::mock::server::page_body of a user
// with 100 items per feature: one page of ~650 KiB), so the numbers match what the
// exporter decodes in scenario 1.
//   - decode: velt::wire::decode_user_data (the SDK's exact-number parse + envelope checks)
//     next to its parts and to what the libcurl baseline does (boost::json::parse);
//   - request encode: velt::wire::encode of a request with a page token;
//   - the export writer (velt-gdpr's export_writer, when velt_gdpr_core is built): adding a
//     decoded page (serializing its items), and one whole one-page user file (with fsync
//     and rename, in /dev/shm when available).
#include <velt/mock/server.hpp>
#include <velt/wire.hpp>

#if VELT_BENCH_HAVE_GDPR_CORE
#include "core/export_writer.hpp"
#endif

#include <benchmark/benchmark.h>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/storage_ptr.hpp>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

std::string const& full_page() {
  static std::string const body = [] {
    velt::mock::server_options o;
    o.data.users = 1;
    o.data.min_items = o.data.max_items = 200;  // two full pages; page 0 has a token
    o.data.page_size = 100;
    o.data.heavy_users = 0;
    o.data.empty_user_fraction = 0;
    o.data.empty_pages = false;
    velt::mock::server srv(o);
    return srv.page_body(velt::mock::user_id(1), 0);
  }();
  return body;
}

velt::wire::http_response_view view_of(std::string const& body) {
  return velt::wire::http_response_view{200, body, {}, "application/json"};
}

void BM_decode_user_data(benchmark::State& state) {
  auto const& body = full_page();
  for (auto _ : state) {
    auto page = velt::wire::decode_user_data(view_of(body));
    if (!page) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(page);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.SetLabel(std::to_string(body.size() / 1024) + " KiB page, 400 items");
}
BENCHMARK(BM_decode_user_data)->Unit(benchmark::kMicrosecond);

void BM_parse_json_exact(benchmark::State& state) {
  auto const& body = full_page();
  for (auto _ : state) {
    auto v = velt::wire::parse_json(body);
    benchmark::DoNotOptimize(v);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.SetLabel("velt::wire::parse_json alone");
}
BENCHMARK(BM_parse_json_exact)->Unit(benchmark::kMicrosecond);

void BM_boost_json_parse(benchmark::State& state) {
  auto const& body = full_page();
  for (auto _ : state) {
    auto v = json::parse(body);
    benchmark::DoNotOptimize(v);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.SetLabel("what the baseline does (not exact for doubles)");
}
BENCHMARK(BM_boost_json_parse)->Unit(benchmark::kMicrosecond);

void BM_boost_json_serialize_data(benchmark::State& state) {
  auto const& body = full_page();
  auto const v = json::parse(body);
  auto const& data = v.at("result").at("data");
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto s = json::serialize(data);
    bytes = s.size();
    benchmark::DoNotOptimize(s);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.SetLabel("the page's items written back");
}
BENCHMARK(BM_boost_json_serialize_data)->Unit(benchmark::kMicrosecond);

// ---- what a different decoder design would cost (see BENCHMARKS.md, "closing the gap") ----

void BM_boost_json_parse_arena(benchmark::State& state) {
  auto const& body = full_page();
  for (auto _ : state) {
    // One arena per page, owned by the value (the page would own it): no malloc per
    // string/array/object, and freeing the page is one free of a few big blocks.
    auto v = json::parse(body, json::make_shared_resource<json::monotonic_resource>(body.size() * 2));
    benchmark::DoNotOptimize(v);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.SetLabel("boost::json::parse into a per-page monotonic_resource");
}
BENCHMARK(BM_boost_json_parse_arena)->Unit(benchmark::kMicrosecond);

// A handler that builds nothing: what validating the whole body costs (grammar, UTF-8,
// escapes, numbers) with Boost.JSON's own parser.
struct null_handler {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);
  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return true; }
  bool on_object_end(std::size_t, json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t, json::error_code&) { return true; }
  bool on_key_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_key(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, json::error_code&) { return true; }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return true; }
  bool on_double(double, json::string_view, json::error_code&) { return true; }
  bool on_bool(bool, json::error_code&) { return true; }
  bool on_null(json::error_code&) { return true; }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

bool validate(std::string const& body) {
  json::basic_parser<null_handler> p(json::parse_options{});
  json::error_code ec;
  auto const n = p.write_some(false, body.data(), body.size(), ec);
  return !ec && n == body.size();
}

void BM_validate_only(benchmark::State& state) {
  auto const& body = full_page();
  for (auto _ : state) {
    bool ok = validate(body);
    benchmark::DoNotOptimize(ok);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.SetLabel("Boost.JSON basic_parser, handler builds nothing");
}
BENCHMARK(BM_validate_only)->Unit(benchmark::kMicrosecond);

// The exporter's decoder: validation plus item ranges, no values built.
void BM_decode_user_data_raw(benchmark::State& state) {
  auto const& body = full_page();
  for (auto _ : state) {
    auto page = velt::wire::decode_user_data_raw(view_of(body));
    if (!page || page->item_count() != 400) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(page);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.SetLabel("page_format::raw (includes one copy of the body)");
}
BENCHMARK(BM_decode_user_data_raw)->Unit(benchmark::kMicrosecond);

void BM_encode_request(benchmark::State& state) {
  velt::user_data_request r;
  r.organization_id = "org-1";
  r.user_id = "user-0001";
  r.page_token = "bhdwdqwjs298e39e479ddkeuw==329bhdwdqwjs298e39e479ddkeuw==329";
  for (auto _ : state) {
    auto body = velt::wire::encode(r);
    benchmark::DoNotOptimize(body);
  }
}
BENCHMARK(BM_encode_request);

#if VELT_BENCH_HAVE_GDPR_CORE
fs::path scratch_dir() {
  fs::path const base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
  auto const dir = base / ("velt-bench-micro-" + std::to_string(::getpid()));
  fs::create_directories(dir / "users");
  return dir;
}

// Arg 0: a parsed page (items serialized from values); 1: a raw page (what velt-gdpr
// export gets: the items' text is copied).
velt::result<velt::user_data_page> page_in_format(std::int64_t raw) {
  return raw != 0 ? velt::wire::decode_user_data_raw(view_of(full_page()))
                  : velt::wire::decode_user_data(view_of(full_page()));
}

void BM_export_writer_add_page(benchmark::State& state) {
  auto const page = page_in_format(state.range(0));
  auto const dir = scratch_dir();
  std::optional<std::string> const token = std::string("token");
  std::optional<velt::gdpr::export_writer> w;
  std::size_t added = 0, n = 0;
  for (auto _ : state) {
    if (n++ % 8 == 0) {
      state.PauseTiming();
      w.reset();
      // Large spill bound: this measures serializing items, not spooling them.
      w.emplace(velt::gdpr::export_paths(dir), "org-1", "user-0001", std::size_t{1} << 30);
      state.ResumeTiming();
    }
    added = w->add_page(*page);
  }
  w.reset();
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * added));
  state.SetLabel(state.range(0) != 0 ? "holding one raw page (its items are not copied)" : "serializing one parsed page's items");
  fs::remove_all(dir);
}
BENCHMARK(BM_export_writer_add_page)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_export_writer_user_file(benchmark::State& state) {
  auto const page = velt::wire::decode_user_data_raw(view_of(full_page()));
  auto const dir = scratch_dir();
  std::uint64_t bytes = 0;
  for (auto _ : state) {
    velt::gdpr::export_writer w(velt::gdpr::export_paths(dir), "org-1", "user-0001");
    w.add_page(*page);
    bytes = w.finish("2025-01-01T00:00:00Z");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.SetLabel("one-page user from a raw page: add_page + finish (write, fsync, rename)");
  fs::remove_all(dir);
}
BENCHMARK(BM_export_writer_user_file)->Unit(benchmark::kMicrosecond);
#endif

}  // namespace

BENCHMARK_MAIN();
