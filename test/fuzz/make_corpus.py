#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Writes the seed corpora of the fuzzers (test/fuzz/corpus/<fuzzer>/) from the response
shapes in the API notes. Deterministic: rerun after editing and commit the files.

    test/fuzz/make_corpus.py
"""
import json
import pathlib
import struct

HERE = pathlib.Path(__file__).resolve().parent
CORPUS = HERE / "corpus"

TOKEN = "bhdwdqwjs298e39e479ddkeuw==329"
COMMENT = {"annotationId": "a1", "comments": [{"commentId": 1748972106739, "type": "text",
           "commentText": "caf\u00e9 \U0001F600", "createdAt": "2025-06-03T17:35:06.739Z"}],
           "from": {"userId": "user-1", "email": "a@example.com"}, "status": {"id": "open"}}
REACTION = {"annotationId": "r1", "icon": "\U0001F44D", "lastUpdated": 1748972106739,
            "reactions": [{"variant": "x", "from": {"userId": "u"}}]}
RECORDING = {"annotationId": "rec1", "attachments": [{"attachmentId": 17, "size": 12.5,
             "mimeType": "video/webm"}], "mode": "floating", "recordedTime": 0.1}
NOTIFICATION = {"id": "n1", "timestamp": 1748972106739, "notifyUsers": {"u": True},
                "metadata": {"apiKey": "k", "organizationId": "org-1"}}


def page(token=..., features=None, extra=None):
    data = features if features is not None else {
        "comments": [COMMENT], "reactions": [REACTION], "recordings": [RECORDING],
        "notifications": [NOTIFICATION]}
    result = {"status": "success", "message": "Data fetched successfully.", "data": data}
    if token is not ...:
        result["nextPageToken"] = token
    if extra:
        result.update(extra)
    return json.dumps({"result": result}, ensure_ascii=False)


def error(status, message, code=None):
    e = {"message": message, "status": status}
    if code is not None:
        e["code"] = code
    return json.dumps({"error": e})


HTML_502 = ("<html><head><title>502 Bad Gateway</title><style>body{color:red}</style>"
            "<script>var x='<b>';</script></head><body><!-- upstream --><center>"
            "<h1>502 Bad Gateway</h1></center><hr><center>nginx &amp; friends</center>"
            "</body></html>\r\n")

BODIES = {
    "page_first": page(TOKEN),
    "page_last_absent": page(),
    "page_last_null": page(None),
    "page_last_empty": page(""),
    "page_empty_arrays_with_token": page(TOKEN, {"comments": [], "reactions": [],
                                                 "recordings": [], "notifications": []}),
    "page_missing_features": page(None, {"comments": [COMMENT]}),
    "page_unknown_feature": page(TOKEN, {"comments": [], "userProfiles": [{"userId": "u"}]}),
    "page_token_in_data": page(None, {"comments": [], "nextPageToken": TOKEN}),
    "page_feature_not_array": page(None, {"comments": {"a": 1}}),
    "page_token_number": page(5),
    "page_status_failure": json.dumps({"result": {"status": "failure", "message": "nope",
                                                  "data": {}}}),
    "page_no_result": json.dumps({"data": {"comments": []}}),
    "delete_status_code_envelope": json.dumps({"status": "success", "message":
        "Data deletion process has been initiated.", "data": {"jobId": "dsQuvPmIynANgPLLEhCm",
        "tasksCount": 5}, "statusCode": 202}),
    "delete_result_envelope": json.dumps({"result": {"status": "success", "message":
        "User data deletion job queued.", "data": {"jobId": "dsQuvPmIynANgPLLEhCm"}}}),
    "delete_tasks_double": json.dumps({"result": {"data": {"jobId": "j", "tasksCount": 5.0}}}),
    "delete_tasks_negative": json.dumps({"result": {"data": {"jobId": "j", "tasksCount": -1}}}),
    "status_complete": json.dumps({"result": {"status": "success", "message":
        "Data fetched successfully.", "data": {"isDeleteCompleted": True, "tasksLeft": 0,
        "lastTaskCompletedTime": 1748972106739}}}),
    "status_running": json.dumps({"result": {"data": {"isDeleteCompleted": False,
                                                      "tasksLeft": 3}}}),
    "status_running_no_tasks": json.dumps({"result": {"data": {"isDeleteCompleted": False}}}),
    "status_top_level": json.dumps({"status": "success", "data": {"isDeleteCompleted": True}}),
    "error_invalid_argument_code_500": error("INVALID_ARGUMENT", "Invalid page token", 500),
    "error_permission_denied": error("PERMISSION_DENIED", "Invalid API key", 403),
    "error_resource_exhausted": error("RESOURCE_EXHAUSTED", "Too many requests", 429),
    "error_lowercase_status": error("unavailable", "try later"),
    "error_unknown_status": error("TEAPOT", "short and stout"),
    "error_as_string": json.dumps({"error": "something broke"}),
    "error_with_details": json.dumps({"error": {"message": "x", "status": "INTERNAL",
                                                "details": [{"a": [1, 2, {"b": None}]}]}}),
    "html_502": HTML_502,
    "text_503": "upstream connect error or disconnect/reset before headers\n",
    "truncated_json": page(TOKEN)[:57],
    "empty": "",
    "whitespace": " \r\n\t ",
    "numbers": json.dumps({"result": {"data": {"comments": [1748972106739, 0.1, -0.0, 5e-324,
        1.7976931348623157e308, 123456789012345678901234567890, -9223372036854775808,
        18446744073709551615]}}}),
    "number_overflow": '{"result":{"data":{"comments":[1e400]}}}',
    "number_underflow": '{"result":{"data":{"comments":[1e-400, -2.4e-324]}}}',
    "surrogate_pair": '{"result":{"data":{"comments":["\\ud83d\\ude00"]}}}',
    "surrogate_unpaired": '{"result":{"data":{"comments":["cut \\ud83d", "\\ude00 lone"]}}}',
    "surrogate_at_end": '["\\ud83d"]',
    "invalid_utf8": b'{"result":{"data":{"comments":["\xc3\x28 \xff"]}}}',
    "deep_70": '{"result":{"data":{"comments":[' + "[" * 70 + "]" * 70 + "]}}}",
    "escapes": '{"a\\"b":"\\\\ud800\\n\\t\\u0000\\/"}',
    "duplicate_keys": '{"result":{"data":{"comments":[1],"comments":[2]}}}',
    "trailing_data": page(None) + " {}",
}


def raw(body, status=200, reason="OK", headers=None, content_length=True):
    body_bytes = body.encode() if isinstance(body, str) else body
    lines = [f"HTTP/1.1 {status} {reason}"]
    for h in headers or ["Content-Type: application/json"]:
        lines.append(h)
    if content_length:
        lines.append(f"Content-Length: {len(body_bytes)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body_bytes


def chunked(body, sizes=(7, 1, 300)):
    b = body.encode()
    out, i, k = b"", 0, 0
    while i < len(b):
        n = sizes[k % len(sizes)]
        out += f"{n:x};ext=1\r\n".encode() + b[i:i + n] + b"\r\n"
        i += n
        k += 1
    return out + b"0\r\nX-Trailer: t\r\n\r\n"


def write(fuzzer, name, data):
    d = CORPUS / fuzzer
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def decode_input(status, body, retry_after=b"", limits=0):
    b = body.encode() if isinstance(body, str) else body
    return struct.pack(">H", status - 100) + bytes([(limits << 5) | len(retry_after)]) + \
        retry_after + b


def raw_corpus():
    """fuzz_decode_raw: [flags][body]; flags & 7: max_depth (7 = 64), flags & 8: wrap the
    body as the items of a page's "comments"."""
    def as_bytes(b):
        return b.encode() if isinstance(b, str) else b
    for name, body in BODIES.items():
        write("fuzz_decode_raw", name, b"\x07" + as_bytes(body))
    write("fuzz_decode_raw", "page_first_depth_4", b"\x03" + BODIES["page_first"].encode())
    pretty = json.dumps(json.loads(BODIES["page_first"]), indent=2, ensure_ascii=False)
    write("fuzz_decode_raw", "page_first_pretty", b"\x07" + pretty.encode())
    items = {
        "items_documented": json.dumps([COMMENT, REACTION], ensure_ascii=False)[1:-1],
        "items_numbers": "0,-0,1.5e-7,1E+400,123456789012345678901234567890,-1.0e308",
        "items_strings": '"\\u00e9\\ud83d\\ude00","\\"\\\\\\/\\b\\f\\n\\r\\t","caf\u00e9 \U0001F600"',
        "items_lone_surrogate": '"cut \\ud83d"',
        "items_nested": "[[[[{}]]]],{\"a\":[{\"b\":null}]},true,false,null",
        "items_whitespace": ' { "a" : [ 1 , 2 ] } ,\n\t"x" ',
    }
    for name, text in items.items():
        write("fuzz_decode_raw", name, b"\x0f" + text.encode())


def main():
    raw_corpus()
    for name, body in BODIES.items():
        write("fuzz_json_roundtrip", name, body)
        write("fuzz_decode", name + "_200", decode_input(200, body))
    statuses = {"400": 400, "403": 403, "429": 429, "500": 500, "502": 502, "503": 503,
                "302": 302, "202": 202, "204": 204, "599": 599, "101": 101}
    for name, status in statuses.items():
        body = BODIES["error_invalid_argument_code_500"] if status != 502 else HTML_502
        write("fuzz_decode", f"status_{name}", decode_input(status, body))
    write("fuzz_decode", "429_retry_after_seconds", decode_input(429, BODIES["text_503"], b"120"))
    write("fuzz_decode", "429_retry_after_date",
          decode_input(429, BODIES["error_resource_exhausted"], b"Wed, 21 Oct 2015 07:28:00 GMT"))
    write("fuzz_decode", "202_delete_depth_limit",
          decode_input(202, BODIES["delete_status_code_envelope"], limits=1))
    write("fuzz_decode", "200_size_limit", decode_input(200, BODIES["page_first"], limits=3))

    now = struct.pack(">I", 1_750_000_000)
    for i, v in enumerate(["120", "0", " 5 ", "\t7\t", "-1", "+3", "1.5", "99999999999999999999",
                           "2147483648", "Sun, 06 Nov 1994 08:49:37 GMT",
                           "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
                           "Wed, 21 Oct 2037 07:28:00 GMT", "Tue, 29 Feb 2028 00:00:00 GMT",
                           "Fri, 30 Feb 2024 00:00:00 GMT", "Thu, 01 Jan 1970 00:00:00 GMT",
                           "Sat, 31 Dec 2016 23:59:60 GMT", "Friday, 31-Dec-99 23:59:59 GMT",
                           "Mon Jan 10 00:00:00 9999", "sun, 06 nov 1994 08:49:37 gmt", ""]):
        write("fuzz_retry_after", f"value_{i:02d}", now + v.encode())
    write("fuzz_retry_after", "year_boundary",
          struct.pack(">I", 1_767_225_599) + b"Thursday, 01-Jan-26 00:00:00 GMT")

    key = "FUZZ-API-KEY-b7e1c9d24f"
    http = {
        "page": raw(BODIES["page_first"]),
        "page_last": raw(BODIES["page_last_null"]),
        "page_chunked": raw(chunked(BODIES["page_first"]).decode(), headers=[
            "Content-Type: application/json", "Transfer-Encoding: chunked"], content_length=False),
        "page_until_eof": raw(BODIES["page_last_absent"], headers=[
            "Content-Type: application/json", "Connection: close"], content_length=False),
        "http10": raw(BODIES["page_last_empty"]).replace(b"HTTP/1.1", b"HTTP/1.0"),
        "html_502": raw(HTML_502, 502, "Bad Gateway", ["Content-Type: text/html"]),
        "throttle_429": raw("slow down", 429, "Too Many Requests",
                            ["Retry-After: 0", "Content-Type: text/plain"]),
        "throttle_date": raw(BODIES["error_resource_exhausted"], 429, "Too Many Requests",
                             ["Retry-After: Wed, 21 Oct 2015 07:28:00 GMT"]),
        "error_403_echo": raw(error("PERMISSION_DENIED", "bad key " + key), 403, "Forbidden"),
        "html_echo": raw("<p>x-velt-api-key: " + key + "</p>", 502, "Bad Gateway",
                         ["Content-Type: text/html; k=" + key]),
        "redirect_302": raw("", 302, "Found", ["Location: http://127.0.0.1:1/steal"]),
        "continue_then_200": b"HTTP/1.1 100 Continue\r\n\r\n" + raw(BODIES["page_first"]),
        "early_hints_then_200": b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n"
                                b"Retry-After: 99\r\n\r\n" + raw(BODIES["page_first"]),
        "eight_interim_then_200": (b"HTTP/1.1 100 Continue\r\n\r\n" + b"HTTP/1.1 102 Processing\r\n\r\n")
                                  * 4 + raw(BODIES["page_last_null"]),
        "nine_interim_then_200": b"HTTP/1.1 100 Continue\r\n\r\n" * 9 + raw(BODIES["page_first"]),
        "processing_then_429": b"HTTP/1.1 102 Processing\r\n\r\n" + raw(
            "slow down", 429, "Too Many Requests", ["Retry-After: 0"]),
        "switching_protocols": b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                               b"Connection: Upgrade\r\n\r\n\x81\x05hello",
        "interim_with_body_bytes": b"HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\n"
                                   + raw(BODIES["page_first"]),
        "no_content_204": b"HTTP/1.1 204 No Content\r\n\r\n",
        "huge_content_length": b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999\r\n\r\n{",
        "truncated_body": raw(BODIES["page_first"])[:-40],
        "headers_only_partial": b"HTTP/1.1 200 OK\r\nContent-Le",
        "oversized_header": raw("{}", headers=["X-Pad: " + "a" * 3000]),
        "keep_alive_503": raw(error("UNAVAILABLE", "later"), 503, "Service Unavailable",
                              ["Connection: keep-alive"]),
        "malformed_200": raw(BODIES["truncated_json"]),
        "deep_200": raw(BODIES["deep_70"]),
        "garbage": b"hello\r\n\r\n",
        "bad_chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "two_content_lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        "empty": b"",
    }
    for name, data in http.items():
        write("fuzz_client_http", "get_" + name, b"\x00" + data)
        write("fuzz_client_http", "get_retry_" + name, b"\x04" + data)
    # Amplified (op & 8): the server repeats the last 16 bytes until the client stops
    # reading; each of these must end at the client's header or body limit.
    write("fuzz_client_http", "amplify_chunks", b"\x08" + b"HTTP/1.1 200 OK\r\n"
          b"Transfer-Encoding: chunked\r\n\r\n" + b"5\r\nhello\r\n" * 3)
    write("fuzz_client_http", "amplify_header", b"\x08" + b"HTTP/1.1 200 OK\r\nX-A: " + b"a" * 16)
    write("fuzz_client_http", "amplify_body_until_eof", b"\x0c" + b"HTTP/1.1 200 OK\r\n"
          b"Content-Type: application/json\r\n\r\n[" + b" " * 16)
    write("fuzz_client_http", "delete_status_code", b"\x02" + raw(
        BODIES["delete_status_code_envelope"], 202, "Accepted"))
    write("fuzz_client_http", "delete_result", b"\x06" + raw(BODIES["delete_result_envelope"]))
    write("fuzz_client_http", "delete_429", b"\x06" + http["throttle_429"])
    write("fuzz_client_http", "status_complete", b"\x03" + raw(BODIES["status_complete"]))
    write("fuzz_client_http", "status_running", b"\x07" + raw(BODIES["status_running"]))

    users_corpus()
    file_name_corpus()
    gzip_corpus()


# fuzz_gzip_body: [limit / 64: 2 bytes][piece seed][gzip body]
def gzip_corpus():
    import gzip
    page_body = BODIES["page_first"].encode()
    member = gzip.compress(page_body, mtime=0)
    big = struct.pack(">H", 0xFFFF) + b"\x00"
    write("fuzz_gzip_body", "page", big + member)
    write("fuzz_gzip_body", "page_pieces", big[:2] + b"\x07" + member)
    write("fuzz_gzip_body", "two_members", big + member + gzip.compress(b"tail", mtime=0))
    write("fuzz_gzip_body", "truncated", big + member[: len(member) // 2])
    write("fuzz_gzip_body", "trailing_garbage", big + member + b"garbage")
    write("fuzz_gzip_body", "bad_crc", big + member[:-8] + bytes([member[-8] ^ 1]) + member[-7:])
    write("fuzz_gzip_body", "bomb", struct.pack(">H", 16) + b"\x03" + gzip.compress(bytes(1 << 20), 9, mtime=0))
    write("fuzz_gzip_body", "empty", big)


# fuzz_users_file: [flags][args length + args, when flags & 0x40][pad, when flags & 0x80][file]
# flags & 0x0F picks max_id_bytes (see kMaxIdBytes in the fuzzer: 0x05 is 16, 0x0E is 4096),
# (flags >> 4) & 3 the number of shards - 1.
def users_input(file, max_index=0x0E, shards=1, args=None, pad=None):
    flags = max_index | ((shards - 1) << 4)
    out = b""
    if args is not None:
        flags |= 0x40
        blob = "\n".join(args).encode()
        out += bytes([len(blob)]) + blob
    if pad is not None:
        flags |= 0x80
        out += bytes([pad])
    f = file.encode() if isinstance(file, str) else file
    return bytes([flags]) + out + f


def users_corpus():
    basic = "alice\nbob\n  carol \t\r\n# a comment\n\nalice\n\t# indented comment\nbob\n"
    seeds = {
        "basic": users_input(basic),
        "crlf_no_final_newline": users_input("alice\r\nbob\r\ncarol"),
        "only_blank_and_comments": users_input("\n\n \t\r\n#x\n   #y\n"),
        "inner_spaces_and_hash": users_input("alice smith\na#b\n#not-an-id\n  x  y  \n"),
        "vt_ff_whitespace": users_input("\valice\f\n\f\v\nbob\v\n"),
        "utf8_and_binary": users_input(b"caf\xc3\xa9\n\xff\xfe\n\x00nul\x00\nuser\x01\n"),
        "email_ids": users_input("a@example.com\nA@example.com\na@example.com\n"),
        "empty_file": users_input(""),
        "single_newline": users_input("\n"),
        "sharded_2": users_input(basic + "dave\neve\nfrank\n", shards=2),
        "sharded_4": users_input(basic + "dave\neve\nfrank\ngrace\nheidi\n", shards=4),
        "args_and_file": users_input("bob\ncarol\nalice\n", args=["alice", "", "bob", "alice"]),
        "args_only": users_input("", args=["x", "y", "x"]),
        "args_with_spaces": users_input(" alice \nalice\n", args=[" alice "]),
        "overlong_id_16": users_input("short\n" + "x" * 17 + "\n" + "y" * 100 + "\nshort\n",
                                      max_index=0x05),
        "overlong_exact_16": users_input("z" * 16 + "\n" + "z" * 16 + "\n", max_index=0x05),
        "overlong_line_not_id": users_input(" " * 70 + "abc" + " " * 10 + "\n", max_index=0x05),
        "overlong_4096": users_input("a" * 4097 + "\n" + "b" * 4096 + "\n"),
        "overlong_max_1": users_input("a\nab\n\n", max_index=0x00),
        "straddle_chunk": users_input("straddling-user-id\nnext\n", pad=5),
        "straddle_crlf": users_input("ab\r\ncd\r\n", pad=3),
        "straddle_newline_at_boundary": users_input("\nafter\n", pad=0),
        "straddle_overlong": users_input("q" * 40 + "\nend\n", max_index=0x05, pad=20),
    }
    for name, data in seeds.items():
        write("fuzz_users_file", name, data)


# fuzz_file_name: [split][ids]; the first id is rest[:split % (len(rest) + 1)].
def file_name_corpus():
    def pair(a, b=b""):
        a = a.encode() if isinstance(a, str) else a
        b = b.encode() if isinstance(b, str) else b
        # Longer first ids: split 0 (an empty first id, the whole rest as the second).
        return bytes([len(a) if len(a) < 256 else 0]) + a + b

    seeds = {
        "plain": pair("user-1"),
        "pair_distinct": pair("user-1", "user-2"),
        "pair_equal": pair("same", "same"),
        "pair_case": pair("User", "user"),
        "dot": pair("."),
        "dotdot": pair(".."),
        "dot_hidden": pair(".hidden"),
        "dots_inside": pair("a..b."),
        "traversal": pair("../../etc/passwd"),
        "slash": pair("/"),
        "backslash": pair("..\\x"),
        "nul": pair(b"a\x00b"),
        "control_and_space": pair(b" \t\r\n\x7f"),
        "percent_escape_lookalike": pair("%2E%2E", ".."),
        "tilde": pair("~user"),
        "email": pair("Alice.Smith+gdpr@example.com"),
        "utf8": pair("caf\u00e9 \U0001F600"),
        "invalid_utf8": pair(b"\xff\xfe\xc3\x28"),
        "windows_reserved": pair("CON", "nul"),
        "long_kept_200": pair("a" * 200),
        "long_kept_201": pair("a" * 201),
        "long_encoded_66": pair("/" * 66),
        "long_encoded_67": pair("/" * 67),
        "long_cut_at_escape": pair("a" * 198 + "/" + "b"),
        "long_cut_after_escape": pair("a" * 197 + "/" + "bb"),
        "long_same_prefix": pair("x" * 250 + "1", "x" * 250 + "2"),
        "long_binary": pair(bytes(range(256))),
    }
    for name, data in seeds.items():
        write("fuzz_file_name", name, data)


if __name__ == "__main__":
    main()
