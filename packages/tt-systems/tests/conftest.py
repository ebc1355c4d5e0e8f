"""Shared by the server tests: a tiny export and servers on 127.0.0.1 (port 0, in threads)
that are shut down when the test ends."""

import json
import socket
import threading

import numpy as np
import pytest
from tt_systems import ServeLimits, export, make_server
from tt_transformers import GPT, GPTConfig

CHARS = "abcdefghijklmnopqrstuvwxyz .\n"
CONFIG = GPTConfig(block_size=32, vocab_size=len(CHARS), n_layer=1, n_head=2, n_embd=16)


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
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=10)


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
