"""Serving a TinyGPT export over HTTP with the standard library (http.server).

    POST /generate {"prompt": "...", "max_new_tokens": 100, "temperature": 0.8,
                    "top_k": null, "top_p": null, "seed": null}
      -> 200 {"text": completion, "tokens": [ids], "prompt_tokens": n, "seconds": s}
    GET /health -> 200 {"status": "ok", "model": "GPT", "config": {...}, "limits": {...}}

Every bad request gets HTTP 400 (413 for an oversize body) and a JSON {"error": message}.
Requests run on threads (ThreadingHTTPServer). Generation shares nothing mutable: the model is
in eval mode and only read, grad mode is per thread (each request runs under no_grad), and
each request builds its own KV cache and random generator. `max_concurrent` bounds how many
generate at once (1 turns it into a lock around generation).
"""

import json
import logging
import math
import threading
import time
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from tt_generation import generate

from .export import load_for_serving

logger = logging.getLogger("tt_systems.server")
FIELDS = ("prompt", "max_new_tokens", "temperature", "top_k", "top_p", "seed")


@dataclass
class ServeLimits:
    """What a request may ask for. Anything outside -> HTTP 400 with a message."""

    max_prompt_chars: int = 1000     # longer prompts are refused (the model sees block_size)
    max_new_tokens: int = 500        # upper bound of max_new_tokens
    default_new_tokens: int = 100    # when the request does not say
    max_temperature: float = 5.0     # temperature must be in [0, max_temperature]
    max_body_bytes: int = 64 * 1024  # larger bodies -> 413
    max_concurrent: int = 4          # generations at once; 1 = a lock around generation
    queue_seconds: float = 60.0      # wait at most this long for a slot, then 503
    socket_timeout: float = 30.0     # a client that stops sending is dropped

    def __post_init__(self):
        for name, value in asdict(self).items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"ServeLimits: {name} must be a positive number, got {value!r}")


class RequestError(ValueError):
    """A request the server refuses; `status` is the HTTP code."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)


class GenerationService:
    """Validation and generation, without HTTP (the handler is a thin layer around it)."""

    def __init__(self, model, tokenizer, limits=None):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.limits = ServeLimits() if limits is None else limits
        self.slots = threading.BoundedSemaphore(self.limits.max_concurrent)

    def parse(self, body):
        """The validated parameters of a raw request body (bytes), or RequestError."""
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise RequestError(f"malformed JSON body: {err}") from None
        return self.validate(payload)

    def validate(self, payload):
        """Check every field of a request; returns a dict ready for `run`."""
        lim = self.limits
        if not isinstance(payload, dict):
            raise RequestError("the body must be a JSON object")
        unknown = sorted(set(payload) - set(FIELDS))
        if unknown:
            raise RequestError(f"unknown field(s) {unknown}; allowed: {list(FIELDS)}")
        prompt = payload.get("prompt")
        if not isinstance(prompt, str) or not prompt:
            raise RequestError("'prompt' is required and must be a non-empty string")
        if len(prompt) > lim.max_prompt_chars:
            raise RequestError(f"'prompt' has {len(prompt)} characters; the limit is "
                               f"{lim.max_prompt_chars}")
        missing = self.tokenizer.unknown(prompt)
        if missing:
            raise RequestError(f"'prompt' has characters the model does not know: {missing[:10]}")
        n = payload.get("max_new_tokens", min(lim.default_new_tokens, lim.max_new_tokens))
        if not _is_int(n) or not 1 <= n <= lim.max_new_tokens:
            raise RequestError(f"'max_new_tokens' must be an int in [1, {lim.max_new_tokens}], "
                               f"got {n!r}")
        t = payload.get("temperature", 1.0)
        if not _is_number(t) or not 0 <= t <= lim.max_temperature:
            raise RequestError(f"'temperature' must be a number in [0, {lim.max_temperature}], "
                               f"got {t!r}")
        return {"prompt": prompt, "max_new_tokens": n, "temperature": float(t),
                **self._sampling(payload)}

    def _sampling(self, payload):
        top_k, top_p, seed = (payload.get(k) for k in ("top_k", "top_p", "seed"))
        vocab = self.tokenizer.vocab_size
        if top_k is not None and (not _is_int(top_k) or not 1 <= top_k <= vocab):
            raise RequestError(f"'top_k' must be null or an int in [1, {vocab}], got {top_k!r}")
        if top_p is not None and (not _is_number(top_p) or not 0 < top_p <= 1):
            raise RequestError(f"'top_p' must be null or a number in (0, 1], got {top_p!r}")
        if seed is not None and (not _is_int(seed) or not 0 <= seed < 2**32):
            raise RequestError(f"'seed' must be null or an int in [0, 2**32), got {seed!r}")
        return {"top_k": top_k, "top_p": None if top_p is None else float(top_p), "seed": seed}

    def run(self, params):
        """Generate for validated params: {text, tokens, prompt_tokens, seconds}."""
        if not self.slots.acquire(timeout=self.limits.queue_seconds):
            raise RequestError("the server is busy; try again later", status=503)
        try:
            start = time.perf_counter()
            ids = self.tokenizer.encode(params["prompt"])
            out = generate(self.model, np.array([ids], dtype=np.int64),
                           params["max_new_tokens"], temperature=params["temperature"],
                           top_k=params["top_k"], top_p=params["top_p"], seed=params["seed"])
            new = out.data[0, len(ids):].tolist()
            seconds = time.perf_counter() - start
        finally:
            self.slots.release()
        return {"text": self.tokenizer.decode(new), "tokens": new,
                "prompt_tokens": len(ids), "seconds": seconds}

    def health(self):
        return {"status": "ok", "model": type(self.model).__name__,
                "config": asdict(self.model.config), "vocab_size": self.tokenizer.vocab_size,
                "limits": asdict(self.limits)}


class _Handler(BaseHTTPRequestHandler):
    server_version = "tinytorch-serve/0.1"

    def setup(self):
        self.timeout = self.server.service.limits.socket_timeout  # read by StreamRequestHandler
        super().setup()

    def log_message(self, format, *args):  # the library prints nothing: log instead
        logger.info("%s %s", self.address_string(), format % args)

    def _send(self, status, payload):
        body = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.split("?")[0] == "/health":
            self._send(200, self.server.service.health())
        else:
            self._send(404, {"error": f"no such endpoint: GET {self.path}"})

    def do_POST(self):
        if self.path.split("?")[0] != "/generate":
            self._send(404, {"error": f"no such endpoint: POST {self.path}"})
            return
        service = self.server.service
        try:
            params = service.parse(self._body(service.limits.max_body_bytes))
            self._send(200, service.run(params))
        except RequestError as err:
            self._send(err.status, {"error": str(err)})
        except Exception as err:  # a bug must not kill the server thread silently
            logger.exception("generation failed")
            self._send(500, {"error": f"internal error: {type(err).__name__}: {err}"})

    def _body(self, limit):
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise RequestError("a Content-Length header with the body size is required")
        if int(length) > limit:
            raise RequestError(f"the body has {length} bytes; the limit is {limit}", status=413)
        return self.rfile.read(int(length))


class InferenceServer(ThreadingHTTPServer):
    """ThreadingHTTPServer holding a GenerationService; request threads are daemons."""

    daemon_threads = True
    request_queue_size = 128  # socketserver's default listen backlog (5) resets a burst of 20

    def __init__(self, address, service):
        self.service = service
        super().__init__(address, _Handler)

    @property
    def url(self):
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def make_server(export_dir, host="127.0.0.1", port=0, limits=None):
    """An InferenceServer bound to (host, port) for the export in `export_dir` (or a TinyGPT
    training folder), not yet serving: call serve_forever() (in a thread for tests).
    port=0 picks a free port."""
    model, tokenizer = load_for_serving(export_dir)
    return InferenceServer((host, port), GenerationService(model, tokenizer, limits))


def serve(export_dir, host="127.0.0.1", port=0, limits=None, ready=None):
    """Serve `export_dir` until interrupted. ready(server), if given, is called once bound
    (port=0 picks a free port: read server.url there)."""
    server = make_server(export_dir, host, port, limits)
    try:
        if ready is not None:
            ready(server)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
