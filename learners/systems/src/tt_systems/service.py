"""Validation and generation for the server, without HTTP: what a request may ask for
(`ServeLimits`), how it is refused (`RequestError`), and the `GenerationService` that checks a
request body and runs the model under a bound on concurrent generations.
"""

import json
import math
import threading
import time
from dataclasses import asdict, dataclass

import numpy as np
from tt_generation import generate

from .metrics import ServerMetrics

FIELDS = ("prompt", "max_new_tokens", "temperature", "top_k", "top_p", "seed")


@dataclass
class ServeLimits:
    """The server's limits: what a request may ask for (outside -> HTTP 400 with a message),
    how big and how slow a request may be, and how many are served at once."""

    max_prompt_chars: int = 1000     # longer prompts are refused (the model sees block_size)
    max_new_tokens: int = 500        # upper bound of max_new_tokens
    default_new_tokens: int = 100    # when the request does not say
    max_temperature: float = 5.0     # temperature must be in [0, max_temperature]
    max_body_bytes: int = 64 * 1024  # larger bodies -> 413
    max_concurrent: int = 4          # generations at once; 1 = a lock around generation
    queue_seconds: float = 60.0      # wait at most this long for a slot, then 503
    socket_timeout: float = 30.0     # a client that stops reading its answer is dropped
    request_seconds: float = 10.0    # the whole request (line, headers, body) must arrive
    #                                  within this, however slowly it trickles in; then 408
    max_connections: int = 64        # connections served at once; more get 503 at accept

    def __post_init__(self):
        for name, value in asdict(self).items():
            if not _is_number(value) or value <= 0:
                raise ValueError(f"ServeLimits: {name} must be a positive finite number, got "
                                 f"{value!r}")
        for name in ("max_concurrent", "max_connections"):
            if not isinstance(getattr(self, name), int):
                raise ValueError(f"ServeLimits: {name} must be an int, got "
                                 f"{getattr(self, name)!r}")


class RequestError(ValueError):
    """A request the server refuses; `status` is the HTTP code. `log` is what the log line
    says instead of the message when the message quotes the prompt."""

    def __init__(self, message, status=400, log=None):
        super().__init__(message)
        self.status = status
        self.log = message if log is None else log


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)


class GenerationService:
    """Validation and generation, without HTTP (the handler is a thin layer around it).

    `metrics` counts generations, the queue and its rejections (a private registry each)."""

    def __init__(self, model, tokenizer, limits=None, metrics=None):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.limits = ServeLimits() if limits is None else limits
        self.metrics = ServerMetrics() if metrics is None else metrics
        self.slots = threading.BoundedSemaphore(self.limits.max_concurrent)

    def parse(self, body):
        """The validated parameters of a raw request body (bytes), or RequestError."""
        try:
            payload = json.loads(body.decode("utf-8"))
        except RecursionError:  # '[' * 30000: the decoder recurses once per level
            raise RequestError("malformed JSON body: nested too deeply") from None
        except ValueError as err:  # bad JSON or UTF-8, or an int of over 4300 digits
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
        missing = [c for c in dict.fromkeys(prompt) if c not in self.tokenizer.stoi]
        if missing:
            raise RequestError(f"'prompt' has characters the model does not know: {missing[:10]}",
                               log=f"'prompt' has {len(missing)} character(s) the model does "
                                   "not know")
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
        if not self._acquire():
            self.metrics.rejected("queue")
            raise RequestError("the server is busy; try again later", status=503)
        self.metrics.gauge("active", 1)
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
            self.metrics.gauge("active", -1)
        self.metrics.generated(len(new), seconds)
        return {"text": self.tokenizer.decode(new), "tokens": new,
                "prompt_tokens": len(ids), "seconds": seconds}

    def _acquire(self):
        """Wait up to queue_seconds for a generation slot (counted as the queue depth)."""
        self.metrics.gauge("queue", 1)
        try:
            return self.slots.acquire(timeout=self.limits.queue_seconds)
        finally:
            self.metrics.gauge("queue", -1)

    def health(self):
        return {"status": "ok", "model": type(self.model).__name__,
                "config": asdict(self.model.config), "vocab_size": self.tokenizer.vocab_size,
                "limits": asdict(self.limits)}
