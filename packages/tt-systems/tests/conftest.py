"""Shared by the tests: a tiny export and servers on 127.0.0.1 (port 0, in threads) that are
shut down when the test ends (the server tests); and other implementations that meet the
contracts tt-systems relies on, written from those contracts (the modules' READMEs), not from
the reference code. The cost and memory tests run on them as well as on the installed modules:
a model that only held for the reference's internals would fail there.
"""

import json
import math
import socket
import threading
import time

import numpy as np
import pytest
from tt_attention import MultiHeadAttention, causal_mask, scaled_dot_product_attention
from tt_systems import ServeLimits, export, make_server
from tt_tensor import as_tensor
from tt_transformers import GPT, GPTConfig

CHARS = "abcdefghijklmnopqrstuvwxyz .\n"
CONFIG = GPTConfig(block_size=32, vocab_size=len(CHARS), n_layer=1, n_head=2, n_embd=16)
# how long a test waits for the server to reach a state before it fails: generous for a
# loaded machine; every wait returns as soon as the state is reached
WAIT_SECONDS = 30.0


def wait_until(condition, seconds=WAIT_SECONDS):
    """Poll condition() every 10 ms until it is true (-> True) or `seconds` have passed
    (-> False, after one last try)."""
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() >= end:
            return bool(condition())
        time.sleep(0.01)
    return True


def stop_server(srv, thread):
    """Stop accepting, wait until every accepted connection has been answered, logged and
    closed, then close. A connection whose client left without reading (a holder closed at
    the end of a test) is logged only when the server reads that close: without the wait, its
    line could land in the next test's log capture."""
    srv.shutdown()
    idle = wait_until(lambda: srv.open_connections == 0)
    srv.server_close()
    thread.join(timeout=WAIT_SECONDS)
    assert idle, f"{srv.open_connections} connection(s) still open {WAIT_SECONDS:g} s after " \
        "shutdown()"


@pytest.fixture(name="wait_until")
def wait_until_fixture():
    return wait_until


@pytest.fixture(name="stop_server", scope="session")
def stop_server_fixture():
    return stop_server


@pytest.fixture(scope="session")
def tiny_export(tmp_path_factory):
    np.random.seed(0)
    path = tmp_path_factory.mktemp("tiny-export")
    export(GPT(CONFIG), CONFIG, CHARS, path)
    return path


@pytest.fixture
def start_server(tiny_export):
    """start_server(**limits, allow_hosts=(), log_prompts=False) -> a running server."""
    started = []

    def start(allow_hosts=(), log_prompts=False, **limits):
        srv = make_server(tiny_export, "127.0.0.1", 0, ServeLimits(**limits),
                          allow_hosts=allow_hosts, log_prompts=log_prompts)
        # a short poll interval: shutdown() returns within it
        thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        started.append((srv, thread))
        return srv

    yield start
    for srv, thread in started:
        stop_server(srv, thread)


class Http:
    """Raw HTTP/1.1 on a socket, so that any header (or none) can be sent."""

    @staticmethod
    def request(server, method, path, body=b"", headers=None, timeout=10):
        """(status, headers with lower-case names, body bytes). A dict body is sent as JSON;
        a header given as None is left out."""
        if isinstance(body, dict):
            body = json.dumps(body).encode("utf-8")
        host, port = server.server_address[:2]
        fields = {"Host": f"{host}:{port}"}
        if method == "POST":
            fields.update({"Content-Type": "application/json", "Content-Length": len(body)})
        fields.update(headers or {})
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in fields.items() if v is not None) + "\r\n"
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(head.encode("latin-1") + body)
            return Http.parse(Http.read_all(sock))

    @staticmethod
    def read_all(sock):
        """Everything until the server closes the connection."""
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def parse(raw):
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, v in
                   (line.split(":", 1) for line in lines[1:] if ":" in line)}
        return status, headers, body


@pytest.fixture
def http():
    return Http


class TwoSlotMomentumSGD:
    """SGD with momentum as tt-optimizers' README allows it: one momentum buffer per parameter
    (its state, 1x the parameters), made on the first step, and two flat scratch buffers of the
    largest parameter's size (the documented bound `1x params + 2 * max_numel`); a step after
    the first allocates nothing. b = momentum b + g, p = p - lr b (PyTorch's, dampening 0)."""

    def __init__(self, params, lr=1e-3, momentum=0.9):
        self.params, self.lr, self.momentum = list(params), lr, momentum
        self.buffers = self.scratch = None

    def step(self):
        if self.buffers is None:
            self.buffers = [np.zeros_like(p.data) for p in self.params]
            size = max(p.data.size for p in self.params)
            dtype = self.params[0].data.dtype
            self.scratch = (np.empty(size, dtype), np.empty(size, dtype))
        for p, buffer in zip(self.params, self.buffers):
            if p.grad is None:
                continue
            grad = np.asarray(getattr(p.grad, "data", p.grad))
            first, second = (s[:grad.size].reshape(grad.shape) for s in self.scratch)
            np.multiply(buffer, self.momentum, out=first)
            np.add(first, grad, out=buffer)
            np.multiply(buffer, self.lr, out=second)
            np.subtract(p.data, second, out=p.data)


class ScaleQAttention(MultiHeadAttention):
    """MultiHeadAttention as tt-attention's README describes one way to do it: the 1/sqrt(D)
    scale multiplies q (T D numbers) rather than the scores, and the causal mask is passed
    even for one query (an all-True row). Same parameters and outputs as the contract says."""

    def forward(self, x, mask=None, kv_cache=None):
        x = as_tensor(x)
        B, T, E = x.shape
        H, D = self.num_heads, E // self.num_heads
        flat = x.reshape(B * T, E)

        def heads(t):
            return t.reshape(B, T, H, D).permute(0, 2, 1, 3)

        q = heads(self.q_proj(flat)) * (1.0 / math.sqrt(D))
        k, v = heads(self.k_proj(flat)), heads(self.v_proj(flat))
        if kv_cache is not None:
            k, v = kv_cache.update(k, v)
        if self.causal:
            causal = causal_mask(T, k.shape[-2])
            mask = causal if mask is None else np.asarray(getattr(mask, "data", mask)) & causal
        y = scaled_dot_product_attention(q, k, v, mask=mask, scale=1.0)
        return self.out_proj(y.permute(0, 2, 1, 3).reshape(B * T, E)).reshape(B, T, E)


@pytest.fixture(params=["installed", "scale-q"])
def attention_class(request):
    """The installed MultiHeadAttention, and one that scales q and always masks."""
    return MultiHeadAttention if request.param == "installed" else ScaleQAttention


@pytest.fixture
def two_slot_sgd():
    return TwoSlotMomentumSGD


@pytest.fixture
def scale_q_attention():
    return ScaleQAttention


@pytest.fixture(params=["installed", "two-slot"])
def momentum_sgd(request):
    """None (memory_report's own SGD with momentum) or a two-slot one."""
    return None if request.param == "installed" else (
        lambda params: TwoSlotMomentumSGD(params, lr=1e-3, momentum=0.9))
