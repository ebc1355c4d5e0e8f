"""Hostile and careless clients against the server, on 127.0.0.1 with small limits so that
every test ends in seconds: slow clients, floods of connections, hostile bodies, wrong
methods, foreign Host / Origin headers and content types. Every loop is bounded.
"""

import json
import logging
import select
import socket
import threading
import time

import pytest
from tt_systems import ServeLimits, serve_main

DEADLINE = 0.5  # request_seconds of the servers below
WAIT = 30.0  # how long a test waits for a state of the server (returning once it holds)
GOOD = {"prompt": "the ", "max_new_tokens": 3, "seed": 1}


def connect(server):
    return socket.create_connection(server.server_address[:2], timeout=10)


def post_head(server, length, content_type="application/json"):
    host, port = server.server_address[:2]
    return (f"POST /generate HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {content_type}"
            f"\r\nContent-Length: {length}\r\n\r\n").encode()


def error_of(body):
    return json.loads(body)["error"]


# ------------------------------------------------------------------ slow clients: 408

def test_a_body_trickled_one_byte_at_a_time_gets_408_at_the_deadline(start_server, http):
    server = start_server(request_seconds=DEADLINE)
    body = json.dumps(GOOD).encode()
    start = time.monotonic()
    with connect(server) as sock:
        sock.sendall(post_head(server, len(body)))
        sent = 0
        for byte in body:  # one byte per 50 ms: the whole body would take ~1.4 s
            sock.send(bytes([byte]))
            sent += 1
            if select.select([sock], [], [], 0.05)[0]:
                break  # the server has answered
        status, _, answer = http.parse(http.read_all(sock))
    elapsed = time.monotonic() - start
    assert status == 408 and f"within {DEADLINE:g} s" in error_of(answer)
    assert sent < len(body) and DEADLINE <= elapsed < DEADLINE + 2


def test_a_content_length_larger_than_the_body_gets_408_not_500(start_server, http):
    server = start_server(request_seconds=DEADLINE)
    start = time.monotonic()
    with connect(server) as sock:
        sock.sendall(post_head(server, 100) + b'{"prompt": "a"}')  # 15 of 100 bytes, then wait
        status, _, answer = http.parse(http.read_all(sock))
    assert status == 408 and "did not arrive" in error_of(answer)
    assert time.monotonic() - start < DEADLINE + 2


@pytest.mark.parametrize("partial", [b"", b"GET /health HT", b"GET /health HTTP/1.1\r\nHost:"])
def test_a_request_that_never_ends_its_headers_gets_408(start_server, http, partial):
    server = start_server(request_seconds=DEADLINE)
    with connect(server) as sock:
        sock.sendall(partial)
        status, _, _ = http.parse(http.read_all(sock))
    assert status == 408


def test_a_body_that_ends_early_gets_400(start_server, http):
    server = start_server(request_seconds=5)
    with connect(server) as sock:
        sock.sendall(post_head(server, 100) + b'{"prompt": "a"}')
        sock.shutdown(socket.SHUT_WR)  # the client says it is done: no need to wait
        status, _, answer = http.parse(http.read_all(sock))
    assert status == 400 and "ended after 15 of the 100 bytes" in error_of(answer)


# ------------------------------------------------------------------ many connections: 503

def probe(server, http):
    """(status of GET /health, seconds until its whole answer was read)."""
    start = time.monotonic()
    status, _, _ = http.request(server, "GET", "/health", timeout=DEADLINE + 3)
    return status, time.monotonic() - start


def hold(server, n, partial=b"GET /health HTTP/1.1\r\n"):
    """n connections that send part of their headers and then wait."""
    socks = [connect(server) for _ in range(n)]
    for sock in socks:
        sock.sendall(partial)
    return socks


def test_connections_over_the_cap_get_503_at_once(start_server, http):
    server = start_server(max_connections=4, request_seconds=3)
    holders = hold(server, 4)  # accepted first (the listen queue is FIFO): they fill the cap
    try:
        start = time.monotonic()
        status, headers, answer = http.request(server, "GET", "/health")
        assert status == 503 and "the limit is 4" in error_of(answer)
        assert headers["retry-after"] == "1"
        assert time.monotonic() - start < 1.5  # not after the holders' 3 s deadline
    finally:
        for sock in holders:
            sock.close()


def test_a_refused_client_that_sends_its_request_late_still_reads_the_503(start_server, http,
                                                                          wait_until):
    server = start_server(max_connections=1, request_seconds=3)
    (holder,) = hold(server, 1)
    try:
        with connect(server) as sock:
            # the server answers 503 before the request comes: wait until it can be read
            assert wait_until(lambda: select.select([sock], [], [], 0)[0])
            host, port = server.server_address[:2]
            sock.sendall(f"GET /health HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            status, _, answer = http.parse(http.read_all(sock))  # no reset
    finally:
        holder.close()
    assert status == 503 and "too many connections" in error_of(answer)


def wait_for_health(server, http, seconds):
    """(whether GET /health answered 200 within `seconds`, how many requests were sent)."""
    end, polls = time.monotonic() + seconds, 0
    while True:
        polls += 1
        if http.request(server, "GET", "/health", timeout=seconds)[0] == 200:
            return True, polls
        if time.monotonic() >= end:
            return False, polls
        time.sleep(0.05)


def test_health_keeps_answering_under_a_flood_of_header_only_connections(
        start_server, http, caplog, wait_until):
    # the holders keep their slots for `deadline` seconds: long enough that the first probe,
    # sent once the cap is full, is answered 503 even when a loaded machine stalls this thread
    deadline = 4 * DEADLINE
    server = start_server(max_connections=4, request_seconds=deadline)
    caplog.set_level(logging.INFO, logger="tt_systems.server")
    threads_before = threading.active_count()
    # the first four connections of the flood hold every slot for `deadline` seconds: once the
    # server has given them their slots, /health is refused at once
    flood, stop, refused_sends = hold(server, 4, b"GET /he"), threading.Event(), []
    assert wait_until(lambda: server.open_connections == 4), "the cap was never reached"
    answers = [probe(server, http)]

    def flood_until_stopped():  # up to 400 connections, each sending half a request line
        while not stop.is_set() and len(flood) < 400:
            sock = connect(server)
            flood.append(sock)  # counted before sending: its line is logged either way
            try:
                sock.sendall(b"GET /he")
            except OSError as err:  # refused at the cap and closed already
                refused_sends.append(err)
            time.sleep(0.002)

    flooder = threading.Thread(target=flood_until_stopped, daemon=True)
    flooder.start()
    try:
        end = time.monotonic() + 3 * deadline
        while time.monotonic() < end:
            answers.append(probe(server, http))
            # the flood gets at most the cap's threads (plus a few that have given their slot
            # back and are ending), never one per connection
            assert threading.active_count() <= threads_before + 1 + 2 * 4
            time.sleep(0.05)
    finally:
        stop.set()
        flooder.join(timeout=WAIT)
        for sock in flood:
            sock.close()
    assert not flooder.is_alive(), f"the flooder did not stop within {WAIT:g} s"
    assert {status for status, _ in answers} <= {200, 503} and answers[0][0] == 503
    assert max(seconds for _, seconds in answers) < deadline + 2  # an answer, never a hang
    # once the flood is gone, /health answers 200 again as soon as a slot frees: each held
    # slot ends when the server reads its client's close, or at its deadline at the latest
    recovered, polls = wait_for_health(server, http, WAIT)
    assert recovered, f"/health still refused {WAIT:g} s after the flood"
    # one line per connection (503 at the cap, 408 at the deadline, 400 for a half request
    # line its client closed), one per /health; not one traceback. The 200 came after every
    # flood connection was accepted (the listen queue is first in, first out), and each
    # accepted one is logged before the server counts it closed: once none is open, all are
    expected = len(flood) + len(answers) + polls
    assert wait_until(lambda: server.open_connections == 0)
    lines = [json.loads(record.getMessage()) for record in caplog.records]
    assert len(lines) == expected and "Traceback" not in caplog.text
    assert {line["status"] for line in lines} <= {200, 400, 408, 503}


# ------------------------------------------------------------------ hostile requests

@pytest.mark.parametrize("method, path, allow", [
    ("GET", "/generate", "POST"), ("PUT", "/generate", "POST"), ("OPTIONS", "/generate", "POST"),
    ("POST", "/health", "GET"), ("DELETE", "/", "GET"), ("BREW", "/metrics", "GET"),
])
def test_a_known_route_with_the_wrong_method_gets_405_with_allow(start_server, http, method,
                                                                path, allow):
    status, headers, answer = http.request(start_server(), method, path)
    assert status == 405 and headers["allow"] == allow
    assert f"answers {allow}, not {method}" in error_of(answer)


@pytest.mark.parametrize("body, message", [
    (b"[" * 30000, "nested too deeply"),
    (b'{"prompt": ' + b"[" * 30000, "nested too deeply"),
    (b'{"prompt": "a", "seed": ' + b"9" * 5000 + b"}", "malformed JSON"),
    (b'{"prompt": "a", "temperature": 1e999}', "'temperature'"),
    (b'{"prompt": "a", "top_p": NaN}', "'top_p'"),
])
def test_hostile_bodies_get_400(start_server, http, body, message):
    status, _, answer = http.request(start_server(), "POST", "/generate", body)
    assert status == 400 and message in error_of(answer)


@pytest.mark.parametrize("content_type", [
    None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "application/jsonp",
])
def test_a_post_that_is_not_declared_json_gets_415(start_server, http, content_type):
    status, _, answer = http.request(start_server(), "POST", "/generate", GOOD,
                                     {"Content-Type": content_type})
    assert status == 415 and "application/json" in error_of(answer)


def test_json_with_a_charset_is_accepted(start_server, http):
    status, _, _ = http.request(start_server(), "POST", "/generate", GOOD,
                                {"Content-Type": "Application/JSON; charset=utf-8"})
    assert status == 200


@pytest.mark.parametrize("headers, status, message", [
    ({"Content-Length": None}, 411, "Content-Length"),
    ({"Content-Length": None, "Transfer-Encoding": "chunked"}, 411, "Content-Length"),
    ({"Content-Length": "12abc"}, 400, "one whole number"),
    ({"Content-Length": "-5"}, 400, "one whole number"),
    ({"Content-Length": "9" * 40}, 413, "the limit is"),
])
def test_bad_content_lengths(start_server, http, headers, status, message):
    got, _, answer = http.request(start_server(), "POST", "/generate", GOOD, headers)
    assert got == status and message in error_of(answer)


def test_http_servers_own_refusals_are_json_too(start_server, http):
    server = start_server()
    status, _, answer = http.request(server, "GET", "/" + "a" * 70000)
    assert status == 414 and "longer than" in error_of(answer)
    many = {f"X-{i}": "1" for i in range(120)}
    status, _, answer = http.request(server, "GET", "/health", headers=many)
    assert status == 431 and error_of(answer)
    with connect(server) as sock:
        sock.sendall(b"NONSENSE\r\n\r\n")
        status, _, answer = http.parse(http.read_all(sock))
    assert status == 400 and "Bad request" in error_of(answer)


# ------------------------------------------------------------------ Host and Origin

@pytest.mark.parametrize("host, status", [
    ("127.0.0.1:{port}", 200), ("localhost:{port}", 200), ("LOCALHOST.", 200),
    ("[::1]:{port}", 200), ("evil.example:{port}", 421), ("evil.example", 421),
    ("127.0.0.1.evil.example", 421), (None, 400),
])
def test_host_is_checked_against_the_bound_address(start_server, http, host, status):
    server = start_server()
    host = None if host is None else host.format(port=server.server_address[1])
    for method, path, body in (("GET", "/health", b""), ("GET", "/", b""),
                               ("POST", "/generate", GOOD)):
        assert http.request(server, method, path, body, {"Host": host})[0] == status


def test_allow_host_adds_names(start_server, http):
    server = start_server(allow_hosts=["tinygpt.lan"])
    assert http.request(server, "GET", "/health", headers={"Host": "tinygpt.lan:80"})[0] == 200
    status, _, answer = http.request(server, "GET", "/health", headers={"Host": "other.lan"})
    assert status == 421 and "tinygpt.lan" in error_of(answer)
    anyone = start_server(allow_hosts=["*"])
    assert http.request(anyone, "GET", "/health", headers={"Host": "other.lan"})[0] == 200


@pytest.mark.parametrize("origin, status", [
    ("http://127.0.0.1:{port}", 200), ("http://localhost:{port}", 200),
    ("http://evil.example", 403), ("https://127.0.0.1.evil.example", 403), ("null", 403),
    ("http://[::1", 403),
])
def test_cross_site_origins_are_refused(start_server, http, origin, status):
    server = start_server()
    origin = origin.format(port=server.server_address[1])
    assert http.request(server, "POST", "/generate", GOOD, {"Origin": origin})[0] == status


# ------------------------------------------------------------------ one log line each

def test_each_client_error_logs_one_line_without_a_traceback(start_server, http, caplog,
                                                            wait_until):
    server = start_server(request_seconds=DEADLINE)
    caplog.set_level(logging.INFO, logger="tt_systems.server")
    sent = [http.request(server, "POST", "/generate", b"[" * 30000)[0],
            http.request(server, "PUT", "/generate")[0],
            http.request(server, "GET", "/health", headers={"Host": "evil.example"})[0],
            http.request(server, "POST", "/generate", GOOD, {"Content-Type": "text/plain"})[0]]
    with connect(server) as sock:
        sock.sendall(post_head(server, 50))
        sent.append(http.parse(http.read_all(sock))[0])
    assert sent == [400, 405, 421, 415, 408]
    # each line is written before its client can read the end of the answer (also when the
    # server lingers to read what the client still sends), so all five are there now, in
    # order; once no connection is open, none can follow
    assert [json.loads(record.getMessage())["status"] for record in caplog.records] == sent
    assert wait_until(lambda: server.open_connections == 0)
    lines = [json.loads(record.getMessage()) for record in caplog.records]
    assert [line["status"] for line in lines] == sent
    assert all(record.levelno == logging.WARNING and record.exc_info is None
               for record in caplog.records)
    assert "Traceback" not in caplog.text and all(line["error"] for line in lines)


# ------------------------------------------------------------------ serve's own options

@pytest.mark.parametrize("option", [
    ["--max-connections", "0"], ["--max-connections", "two"], ["--request-seconds", "0"],
    ["--request-seconds", "-1"], ["--request-seconds", "soon"], ["--request-seconds", "inf"],
    ["--request-seconds", "nan"],
])
def test_bad_serve_options_exit_2_with_one_line(tiny_export, capsys, option):
    with pytest.raises(SystemExit) as stop:
        serve_main([str(tiny_export), *option])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and option[0] in err and "Traceback" not in err


@pytest.mark.parametrize("field, value", [
    ("request_seconds", 0), ("request_seconds", float("inf")), ("request_seconds", float("nan")),
    ("max_connections", 0), ("max_connections", 2.5), ("max_connections", True),
])
def test_bad_limits_are_refused_with_their_name(field, value):
    with pytest.raises(ValueError, match=f"ServeLimits: {field} must be"):
        ServeLimits(**{field: value})
