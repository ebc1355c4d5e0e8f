"""GET /metrics (Prometheus text format, through prometheus_client) and the one JSON log line
per request: counts move by exactly what was sent, servers do not share counts, the server runs
without the extra, prompts stay out of the log unless asked."""

import json
import logging
import socket
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

P = "tinytorch_serve_"
GOOD = {"prompt": "the ", "max_new_tokens": 5}
INSTALL = "pip install 'tt-systems[metrics]'"


def metrics_parser():
    """prometheus_client's parser of the text format. Without the extra, the tests that read
    /metrics fail (never skip) and say what to install; the others still run."""
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError as error:
        missing = error
    else:
        return text_string_to_metric_families
    pytest.fail(f"GET /metrics needs prometheus_client, tt-systems' [metrics] extra: {INSTALL} "
                f"(your own copy: pip install -e 'FOLDER[metrics]'); {missing}", pytrace=False)


def scrape(http, server):
    """{(sample name, sorted label items): value} of one GET /metrics."""
    text_string_to_metric_families = metrics_parser()
    status, headers, body = http.request(server, "GET", "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body.decode("utf-8"))
            for s in family.samples}


def delta(before, after, name, **labels):
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def buckets(samples, route):
    """{le: cumulative count} of the latency histogram of a route."""
    return {float(dict(labels)["le"]): value for (name, labels), value in samples.items()
            if name == P + "request_duration_seconds_bucket" and dict(labels)["route"] == route}


def lines_of(caplog, path="/generate"):
    """The parsed log lines of requests to `path` (a request's line is written before its
    client can read the end of the answer)."""
    lines = [json.loads(record.getMessage()) for record in caplog.records]
    return [line for line in lines if line["path"] == path]


def test_counts_and_buckets_move_by_exactly_a_concurrent_burst(start_server, http, caplog,
                                                               wait_until):
    server = start_server(max_concurrent=2)
    before = scrape(http, server)
    caplog.set_level(logging.INFO, logger="tt_systems.server")
    burst = [("POST", "/generate", dict(GOOD, seed=i)) for i in range(12)]
    burst += [("POST", "/generate", {"prompt": ""})] * 4 + [("GET", "/generate", b"")] * 2
    with ThreadPoolExecutor(max_workers=len(burst)) as pool:
        answers = list(pool.map(lambda r: http.request(server, *r), burst, timeout=60))
    assert [a[0] for a in answers] == [200] * 12 + [400] * 4 + [405] * 2
    lines = lines_of(caplog)
    assert len(lines) == len(burst)
    after = scrape(http, server)

    requests = P + "requests_total"
    assert delta(before, after, requests, route="/generate", method="POST", status="200") == 12
    assert delta(before, after, requests, route="/generate", method="POST", status="400") == 4
    assert delta(before, after, requests, route="/generate", method="GET", status="405") == 2
    assert delta(before, after, requests, route="/metrics", method="GET", status="200") == 1
    # every bucket moves by the number of this burst's requests at or under its bound, as
    # timed by the server (its log lines carry the same durations the histogram observed)
    old, new = buckets(before, "/generate"), buckets(after, "/generate")
    assert new[float("inf")] - old.get(float("inf"), 0) == len(burst)
    for le in new:
        assert new[le] - old.get(le, 0) == sum(line["seconds"] <= le for line in lines), le
    total = sum(line["seconds"] for line in lines)
    assert abs(delta(before, after, P + "request_duration_seconds_sum", route="/generate")
               - total) < 1e-6 * len(burst)
    assert delta(before, after, P + "generated_tokens_total") == 12 * GOOD["max_new_tokens"]
    assert delta(before, after, P + "generation_tokens_per_second_count") == 12
    assert delta(before, after, P + "generation_seconds_total") > 0
    assert after[(P + "queue_depth", ())] == 0 and after[(P + "generations_in_progress", ())] == 0
    # a connection's thread ends just after its client has the answer: the scrape itself is
    # the one open connection once the burst's threads have ended
    assert wait_until(lambda: scrape(http, server)[(P + "open_connections", ())] == 1)
    assert delta(before, after, P + "rejections_total", reason="queue") == 0


def test_queue_depth_and_queue_rejections(start_server, http, wait_until):
    server = start_server(max_concurrent=1, queue_seconds=1.0)
    before = scrape(http, server)
    server.service.slots.acquire()  # a generation holds the only slot
    try:
        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(http.request, server, "POST", "/generate", GOOD)
            assert wait_until(lambda: scrape(http, server)[(P + "queue_depth", ())] == 1)
            status, headers, body = waiting.result(timeout=30)
    finally:
        server.service.slots.release()
    assert status == 503 and headers["retry-after"] == "1" and "busy" in json.loads(body)["error"]
    after = scrape(http, server)
    assert delta(before, after, P + "rejections_total", reason="queue") == 1
    assert after[(P + "queue_depth", ())] == 0


def test_connection_rejections_are_counted(start_server, http, wait_until):
    server = start_server(max_connections=2)
    holders = [socket.create_connection(server.server_address[:2], timeout=10)
               for _ in range(2)]
    for sock in holders:
        sock.sendall(b"GET /health HTTP/1.1\r\n")
    try:
        assert http.request(server, "GET", "/health")[0] == 503
    finally:
        for sock in holders:
            sock.close()
    statuses = []  # the holders' slots come back once the server sees them leave

    def answered():
        statuses.append(http.request(server, "GET", "/health")[0])
        return statuses[-1] != 503

    assert wait_until(answered) and statuses[-1] == 200
    refused = 1 + statuses.count(503)
    # a holder's slot may still be held, and the last answer's until its thread ends: with
    # both taken the scrape itself would be refused, so wait until no connection is open
    assert wait_until(lambda: server.open_connections == 0)
    samples = scrape(http, server)
    assert samples[(P + "rejections_total", (("reason", "connections"),))] == refused


def test_two_servers_count_separately(start_server, http):
    first, second = start_server(), start_server()
    assert http.request(first, "POST", "/generate", GOOD)[0] == 200
    key = (P + "requests_total", (("method", "POST"), ("route", "/generate"), ("status", "200")))
    assert scrape(http, first)[key] == 1 and key not in scrape(http, second)


def test_without_prometheus_client_the_server_runs_and_metrics_says_what_to_install(
        start_server, http, monkeypatch):
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # import now fails
    server = start_server()
    status, _, body = http.request(server, "GET", "/metrics")
    assert status == 501 and INSTALL in json.loads(body)["error"]
    assert http.request(server, "POST", "/generate", GOOD)[0] == 200
    assert http.request(server, "GET", "/health")[0] == 200


def test_without_prometheus_client_the_metrics_tests_fail_saying_what_to_install(
        start_server, http, monkeypatch):
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    monkeypatch.setitem(sys.modules, "prometheus_client.parser", None)
    with pytest.raises(pytest.fail.Exception, match=r"pip install 'tt-systems\[metrics\]'"):
        scrape(http, start_server())


def test_one_json_log_line_per_request_without_the_prompt(start_server, http, caplog):
    server = start_server()
    caplog.set_level(logging.INFO, logger="tt_systems.server")
    secret = "secret words"
    assert http.request(server, "POST", "/generate", dict(GOOD, prompt=secret))[0] == 200
    assert http.request(server, "POST", "/generate", dict(GOOD, prompt="Secret!"))[0] == 400
    first, second = lines_of(caplog)
    assert set(first) == {"time", "client", "method", "path", "status", "seconds", "bytes_in",
                          "bytes_out", "prompt_chars", "prompt_tokens", "new_tokens"}
    assert (first["method"], first["path"], first["status"], first["client"]) == \
        ("POST", "/generate", 200, "127.0.0.1")
    assert first["prompt_chars"] == first["prompt_tokens"] == len(secret)
    assert first["new_tokens"] == GOOD["max_new_tokens"] and first["seconds"] > 0
    assert second["status"] == 400 and "2 character(s)" in second["error"]
    assert "ecret" not in caplog.text and "'!'" not in caplog.text


def test_log_prompts_puts_the_prompt_in_the_line(start_server, http, caplog):
    server = start_server(log_prompts=True)
    caplog.set_level(logging.INFO, logger="tt_systems.server")
    assert http.request(server, "POST", "/generate", dict(GOOD, prompt="say it"))[0] == 200
    (line,) = lines_of(caplog)
    assert line["prompt"] == "say it"


def test_metrics_are_refused_to_foreign_hosts(start_server, http):
    server = start_server()
    assert http.request(server, "GET", "/metrics", headers={"Host": "evil.example"})[0] == 421
