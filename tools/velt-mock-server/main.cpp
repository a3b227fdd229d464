// SPDX-License-Identifier: BSL-1.0
// velt-mock-server: the local Velt-compatible HTTPS server as a program.
//
// Prints one line of JSON on stdout when ready to serve, then nothing else on stdout:
//   {"url":"https://127.0.0.1:PORT","ca_file":"PATH","api_key":"...","auth_token":"...",
//    "organization_id":"...","user_ids":[the first ten]}
// Runs until SIGINT or SIGTERM, then stops cleanly (exit 0). Logs to stderr with --verbose.
#include <velt/mock/server.hpp>
#include <velt/version.hpp>

#include <CLI/CLI.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>

namespace {

namespace mock = velt::mock;

/// "MIN..MAX" or "N" (both bounds N).
std::pair<std::size_t, std::size_t> parse_range(std::string const& text) {
  auto const dots = text.find("..");
  try {
    if (dots == std::string::npos) {
      std::size_t const n = std::stoul(text);
      return {n, n};
    }
    return {std::stoul(text.substr(0, dots)), std::stoul(text.substr(dots + 2))};
  } catch (std::exception const&) {
    throw CLI::ValidationError("--items", "expected MIN..MAX, got '" + text + "'");
  }
}

/// "MS" or "MS,JITTER".
std::pair<long, long> parse_latency(std::string const& text) {
  auto const comma = text.find(',');
  try {
    if (comma == std::string::npos) return {std::stol(text), 0};
    return {std::stol(text.substr(0, comma)), std::stol(text.substr(comma + 1))};
  } catch (std::exception const&) {
    throw CLI::ValidationError("--latency", "expected MS[,JITTER], got '" + text + "'");
  }
}

constexpr char const* fault_help =
    "Inject a fault (repeatable). Spec: comma-separated key=value, the first may be a bare kind.\n"
    "Kinds: latency, throttle_429, http_error_json, http_error_html, resource_exhausted,\n"
    "  unavailable, close_before_response, reset_mid_body, truncated_body, malformed_json,\n"
    "  slow_drip, connection_close, chunked, oversized_headers, gzip_bomb, gzip_corrupt,\n"
    "  gzip_truncated, unsupported_encoding.\n"
    "Keys: kind, p (probability 0..1), user (user id), page (0-based page index), nth (n-th\n"
    "  request, 1-based), times (fire at most N times), endpoint (get|delete|status),\n"
    "  latency, jitter (ms; slow_drip pause), status (HTTP status for http_error_* and\n"
    "  unavailable), retry_after (seconds, an HTTP-date in double quotes, +N for a date N s\n"
    "  ahead, none), drip_bytes, header_bytes.\n"
    "Example: --fault throttle_429,p=0.1,retry_after=2 --fault kind=reset_mid_body,user=user-0003,page=1";

}  // namespace

int main(int argc, char** argv) {
  mock::server_options opts;
  CLI::App app{"velt-mock-server: a local Velt-compatible HTTPS server for the GDPR endpoints "
               "(v1 and v2), with a deterministic data set and scriptable faults.\n"
               "When ready it prints one JSON line on stdout: url, ca_file, api_key, auth_token, "
               "organization_id and the first ten user_ids. Users are user-0001 .. user-NNNN "
               "(1-based, zero-padded to at least 4 digits). GET /_mock/stats returns counters "
               "as JSON (no credentials). SIGINT/SIGTERM stop it (exit 0).",
               "velt-mock-server"};
  app.set_version_flag("--version", std::string("velt-mock-server ") + velt::version());

  app.add_option("--host", opts.host, "Address to listen on")->capture_default_str();
  app.add_option("--port", opts.port, "Port to listen on; 0 picks a free one")->capture_default_str();
  app.add_option("--threads", opts.threads, "Threads serving connections")->capture_default_str()->check(CLI::Range(1u, 256u));
  bool plain_http = false;
  app.add_flag("--plain-http", plain_http, "Serve plain HTTP instead of HTTPS (for transport comparisons only)");
  app.add_option("--cert", opts.cert_file, "Server certificate chain (PEM); default: generate a throw-away CA and certificate");
  app.add_option("--key", opts.key_file, "Private key of --cert (PEM)");
  app.add_option("--ca", opts.ca_file, "CA file to report in the ready line when using --cert/--key");
  std::vector<std::string> cert_hosts;
  app.add_option("--cert-host", cert_hosts, "Host name or IP for the generated certificate (repeatable; default 127.0.0.1 and localhost)");
  app.add_flag("--cert-expired", opts.cert_expired, "Generate a server certificate that has expired");
  app.add_option("--work-dir", opts.work_dir, "Directory for the generated CA file (default: a fresh temporary directory, removed at exit)");
  app.add_option("--api-key", opts.api_key, "Accepted x-velt-api-key")->capture_default_str();
  app.add_option("--auth-token", opts.auth_token, "Accepted x-velt-auth-token")->capture_default_str();

  auto& d = opts.data;
  app.add_option("--org", d.organization_id, "The organization with data")->capture_default_str();
  app.add_option("--seed", d.seed, "Seed of the data set, page tokens, job ids and fault draws")->capture_default_str();
  app.add_option("--users", d.users, "Number of regular users")->capture_default_str();
  std::string items = "0..250";
  app.add_option("--items", items, "Items per user per feature, MIN..MAX")->capture_default_str();
  app.add_option("--empty-fraction", d.empty_user_fraction, "Fraction of users without any data")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--heavy-users", d.heavy_users, "Users with thousands of items (the last ones)")->capture_default_str();
  app.add_option("--heavy-items", d.heavy_items, "Comments of each heavy user (other features scaled)")->capture_default_str();
  app.add_option("--page-size", d.page_size, "Items per feature per page")->capture_default_str()->check(CLI::PositiveNumber);
  std::string end_style = "mixed";
  app.add_option("--end-style", end_style, "How the last page ends: absent, null, empty or mixed (per user)")->capture_default_str()
      ->check(CLI::IsMember({"absent", "null", "empty", "mixed"}));
  app.add_flag("--extra-feature", d.extra_feature, "Also emit the undocumented feature array \"userProfiles\" on page 0");
  bool no_empty_pages = false;
  app.add_flag("--no-empty-pages", no_empty_pages, "Do not insert all-empty pages for some users");
  app.add_flag("--omit-exhausted", d.omit_exhausted_features, "Leave out arrays of features that have run out (after page 0)");
  app.add_option("--unusual-ids", d.unusual_user_ids, "Append N (<= 8) hostile-but-valid user ids (spaces, Unicode, / + % quotes)")->capture_default_str();
  app.add_option("--media-users", d.media_users, "Append N users (media-0001, ...) whose items carry media URLs served by this server under /media/")->capture_default_str();
  app.add_option("--media-fault-users", d.media_fault_users, "Append N users (media-fault-0001, ...) whose media include every media fault (404, slow, big, redirects, 500 then ok)")->capture_default_str();

  long delete_task_ms = opts.delete_task_duration.count();
  app.add_option("--delete-tasks", opts.delete_tasks, "Tasks per deletion job")->capture_default_str();
  app.add_option("--delete-task-ms", delete_task_ms, "Milliseconds each deletion task takes")->capture_default_str();
  std::string delete_shape = "result";
  app.add_option("--delete-envelope", delete_shape, "Success shape of delete: result or status_code")->capture_default_str()
      ->check(CLI::IsMember({"result", "status_code"}));
  bool mismatched = false;
  app.add_flag("--mismatched-error-codes", mismatched, "INVALID_ARGUMENT envelopes carry \"code\": 500 (HTTP stays 400)");

  app.add_flag("--gzip", opts.gzip, "Compress answers (Content-Encoding: gzip, level 1) for requests whose Accept-Encoding allows it");
  long idle_ms = 0;
  app.add_option("--idle-timeout", idle_ms, "Close keep-alive connections idle this many ms, without notice (0: never)")->capture_default_str();
  std::string latency;
  app.add_option("--latency", latency, "Latency on every response: MS[,JITTER]");
  std::vector<std::string> fault_specs;
  app.add_option("--fault", fault_specs, fault_help);
  std::string rate_spec, rate_answer = "retry-after", quota_spec, busy = "envelope", outage_spec, outage_mode = "refuse";
  app.add_option("--rate-limit", rate_spec,
                 "Token bucket over all API requests: R[,BURST] = R per second (decimal), bucket of BURST "
                 "tokens (default 1), full at start; excess requests are refused at once (never queued), "
                 "HTTP 429 as --rate-limit-answer says");
  app.add_option("--rate-limit-answer", rate_answer,
                 "How --rate-limit refuses: plain (429 text, no Retry-After), retry-after (429 text, "
                 "Retry-After: seconds until a token is free), envelope (429 RESOURCE_EXHAUSTED JSON)")
      ->capture_default_str()->check(CLI::IsMember({"plain", "retry-after", "envelope"}));
  app.add_option("--quota", quota_spec,
                 "Fixed window: at most N API requests per SECONDS (N/SECONDS, e.g. 30/60), windows from "
                 "start; over it HTTP 429 RESOURCE_EXHAUSTED \"Rate limit exceeded. Try again after 1 minute.\" "
                 "(the window named)");
  app.add_option("--max-concurrent", opts.max_concurrent,
                 "API requests handled at once beyond N get HTTP 503 (0: no limit)")->capture_default_str();
  app.add_option("--max-concurrent-answer", busy, "503 body for --max-concurrent: envelope (UNAVAILABLE JSON) or html")
      ->capture_default_str()->check(CLI::IsMember({"envelope", "html"}));
  app.add_option("--outage", outage_spec,
                 "Outage window START+DURATION from server start (units ms, s, m; e.g. 2s+4s)");
  app.add_option("--outage-mode", outage_mode,
                 "During --outage: refuse (connections reset at accept, requests on open connections reset) "
                 "or html503 (every API request gets nginx's 503 HTML page)")
      ->capture_default_str()->check(CLI::IsMember({"refuse", "html503"}));
  std::size_t cache_mb = opts.page_cache_bytes >> 20;
  app.add_option("--page-cache-mb", cache_mb, "Bound on the cache of rendered pages, MiB")->capture_default_str();
  std::string expected_file;
  app.add_option("--write-expected", expected_file, "Write the whole expected export (ground truth) to FILE and continue");
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Log connections, requests and faults to stderr");

  CLI11_PARSE(app, argc, argv);

  try {
    opts.tls = !plain_http;
    if (!cert_hosts.empty()) opts.cert_hosts = cert_hosts;
    auto const [lo, hi] = parse_range(items);
    d.min_items = lo;
    d.max_items = hi;
    d.end = *mock::end_of_data_from_string(end_style);
    d.empty_pages = !no_empty_pages;
    opts.delete_shape = *mock::delete_envelope_from_string(delete_shape);
    opts.delete_task_duration = std::chrono::milliseconds{delete_task_ms};
    opts.mismatched_error_codes = mismatched;
    opts.idle_timeout = std::chrono::milliseconds{idle_ms};
    opts.page_cache_bytes = cache_mb << 20;
    auto const flag_value = [](char const* flag, auto parse, std::string const& text) {
      try {
        return parse(text);
      } catch (std::invalid_argument const& e) {
        throw CLI::ValidationError(flag, e.what());
      }
    };
    if (!rate_spec.empty()) {
      opts.rate = flag_value("--rate-limit", mock::parse_rate_limit, rate_spec);
      opts.rate->answer = *mock::rate_limit_answer_from_string(rate_answer);
    }
    if (!quota_spec.empty()) opts.quota = flag_value("--quota", mock::parse_quota, quota_spec);
    opts.busy = *mock::busy_answer_from_string(busy);
    if (!outage_spec.empty()) {
      opts.outage = flag_value("--outage", mock::parse_outage, outage_spec);
      opts.outage->mode = *mock::outage_mode_from_string(outage_mode);
    }
    for (auto const& spec : fault_specs) opts.faults.push_back(mock::parse_fault(spec));
    if (verbose) {
      // One write per line: server threads log concurrently.
      opts.logger = [](std::string_view line) { std::cerr << ("velt-mock-server: " + std::string(line) + "\n"); };
    }

    // Block the stop signals before any thread starts, so that only sigwait sees them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    mock::server srv(opts);
    if (!latency.empty()) {
      auto const [fixed, jitter] = parse_latency(latency);
      srv.set_latency(std::chrono::milliseconds{fixed}, std::chrono::milliseconds{jitter});
    }
    if (!expected_file.empty()) srv.write_expected_export(expected_file);

    boost::json::array ids;
    auto const all = srv.user_ids();
    for (std::size_t i = 0; i < all.size() && i < 10; ++i) ids.emplace_back(all[i]);
    boost::json::object ready;
    ready["url"] = srv.url();
    ready["ca_file"] = srv.ca_file().string();
    ready["api_key"] = srv.api_key();
    ready["auth_token"] = srv.auth_token();
    ready["organization_id"] = srv.organization_id();
    ready["user_ids"] = std::move(ids);
    std::string const line = boost::json::serialize(ready) + "\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);

    int sig = 0;
    sigwait(&signals, &sig);
    if (verbose) std::cerr << "velt-mock-server: stopping on signal " << sig << '\n';
    srv.stop();
    return 0;
  } catch (CLI::Error const& e) {
    return app.exit(e);
  } catch (std::exception const& e) {
    std::cerr << "velt-mock-server: " << e.what() << '\n';
    return 1;
  }
}
