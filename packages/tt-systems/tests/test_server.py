"""The HTTP server on 127.0.0.1 (port 0, in a thread): answers, refusals, concurrency.

Every request has a timeout; the server is shut down after each module's tests.
"""

import json
import re
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from tt_systems import (
    ExportError, GenerationService, RequestError, ServeLimits, load_exported,
    make_server,
)
from tt_transformers import GPTConfig

CHARS = "abcdefghijklmnopqrstuvwxyz .\n"
CONFIG = GPTConfig(block_size=32, vocab_size=len(CHARS), n_layer=1, n_head=2, n_embd=16)
TIMEOUT = 30  # seconds per request


@pytest.fixture(scope="module")
def server(tiny_export, stop_server):
    srv = make_server(tiny_export, "127.0.0.1", 0, ServeLimits(max_prompt_chars=100,
                                                               max_new_tokens=50))
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    stop_server(srv, thread)


def request(server, path, body=None, method=None):
    """(status, JSON answer). body: a dict (sent as JSON) or raw bytes."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    req = urllib.request.Request(server.url + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_server_listens_on_loopback_only(server):
    assert server.server_address[0] == "127.0.0.1" and server.server_address[1] > 0


def test_health(server):
    status, answer = request(server, "/health")
    assert status == 200 and answer["status"] == "ok"
    assert answer["config"]["n_embd"] == CONFIG.n_embd and answer["vocab_size"] == len(CHARS)


def test_a_valid_request_returns_text(server):
    status, answer = request(server, "/generate", {"prompt": "hello there", "seed": 3,
                                                   "max_new_tokens": 12, "top_k": 5})
    assert status == 200, answer
    assert len(answer["text"]) == 12 and set(answer["text"]) <= set(CHARS)
    assert [CHARS[i] for i in answer["tokens"]] == list(answer["text"])
    assert answer["prompt_tokens"] == len("hello there") and answer["seconds"] > 0


def test_the_same_seed_gives_the_same_text(server):
    body = {"prompt": "abc", "seed": 11, "max_new_tokens": 10, "temperature": 0.7, "top_p": 0.9}
    first, second = request(server, "/generate", body), request(server, "/generate", body)
    assert first[0] == 200 and first[1]["text"] == second[1]["text"]


@pytest.mark.parametrize("body, message", [
    (b"{not json", "malformed JSON"),
    (b"\xff\xfe", "malformed JSON"),
    (b"[1, 2]", "JSON object"),
    ({"max_new_tokens": 5}, "'prompt' is required"),
    ({"prompt": ""}, "'prompt' is required"),
    ({"prompt": 42}, "'prompt' is required"),
    ({"prompt": "a" * 101}, "101 characters; the limit is 100"),
    ({"prompt": "Hello!"}, r"\['H', '!'\]"),
    ({"prompt": "hi", "temperature": -0.1}, "'temperature'"),
    ({"prompt": "hi", "temperature": 100}, "'temperature'"),
    ({"prompt": "hi", "temperature": "hot"}, "'temperature'"),
    ({"prompt": "hi", "max_new_tokens": 0}, "'max_new_tokens'"),
    ({"prompt": "hi", "max_new_tokens": 51}, "'max_new_tokens'"),
    ({"prompt": "hi", "max_new_tokens": 2.5}, "'max_new_tokens'"),
    ({"prompt": "hi", "max_new_tokens": True}, "'max_new_tokens'"),
    ({"prompt": "hi", "top_k": 0}, "'top_k'"),
    ({"prompt": "hi", "top_k": len(CHARS) + 1}, "'top_k'"),
    ({"prompt": "hi", "top_p": 0}, "'top_p'"),
    ({"prompt": "hi", "top_p": 1.5}, "'top_p'"),
    ({"prompt": "hi", "seed": -1}, "'seed'"),
    ({"prompt": "hi", "stream": True}, "unknown field"),
])
def test_bad_requests_get_400_with_a_message(server, body, message):
    status, answer = request(server, "/generate", body)
    assert status == 400
    assert re.search(message, answer["error"]), answer["error"]


def test_an_oversize_body_gets_413(tiny_export, stop_server):
    limits = ServeLimits(max_body_bytes=64)
    srv = make_server(tiny_export, "127.0.0.1", 0, limits)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        status, answer = request(srv, "/generate", {"prompt": "a" * 100})
    finally:
        stop_server(srv, thread)
    assert status == 413 and "limit is 64" in answer["error"]


def test_unknown_endpoints_get_404(server):
    assert request(server, "/nope")[0] == 404
    assert request(server, "/generate/x", {"x": 1})[0] == 404


def test_twenty_concurrent_requests_are_all_answered_correctly(server):
    bodies = [{"prompt": "the ", "seed": i, "max_new_tokens": 8} for i in range(20)]
    expected = [request(server, "/generate", b)[1]["text"] for b in bodies]   # one at a time
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda b: request(server, "/generate", b), bodies,
                                timeout=4 * TIMEOUT))
    assert [status for status, _ in answers] == [200] * 20
    # same seed, same text: no request saw another's KV cache, RNG or grad mode
    assert [a["text"] for _, a in answers] == expected


def test_service_validation_without_http(tiny_export):
    model, tokenizer = load_exported(tiny_export)
    service = GenerationService(model, tokenizer, ServeLimits(max_temperature=2.0))
    params = service.validate({"prompt": "ab"})
    assert params == {"prompt": "ab", "max_new_tokens": 100, "temperature": 1.0,
                      "top_k": None, "top_p": None, "seed": None}
    with pytest.raises(RequestError, match=r"\[0, 2.0\]"):
        service.validate({"prompt": "ab", "temperature": 3})
    answer = service.run(service.validate({"prompt": "ab", "max_new_tokens": 4,
                                           "temperature": 0}))
    assert len(answer["tokens"]) == 4


def test_a_corrupt_checkpoint_refuses_to_serve(tmp_path, tiny_export):
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("config.json", "vocab.json"):
        (bad / name).write_bytes((tiny_export / name).read_bytes())
    (bad / "weights.npz").write_bytes((tiny_export / "weights.npz").read_bytes()[:500])
    with pytest.raises(ExportError, match=r"weights\.npz.*(truncated|corrupt)"):
        make_server(bad, "127.0.0.1", 0)
