"""The HTTP side of the server: read one request before its deadline, check where it comes
from and what it carries, route it, answer JSON, log one line.

One request per connection (HTTP/1.0, `Connection: close`), so the connection's deadline is the
request's. Checks, in order: the whole request within `request_seconds` (408), Host (421) and
Origin (403) against the allowed hosts, route (404), method (405 + Allow), then for POST the
Content-Type (415), Content-Length (411, 413) and the body itself (400).
"""

import functools
import io
import json
import logging
import re
import socket
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from importlib import resources
from urllib.parse import urlsplit

from .metrics import METRICS_EXTRA, method_label, route_label
from .service import RequestError

logger = logging.getLogger("tt_systems.server")
ROUTES = {"/": ("GET",), "/health": ("GET",), "/generate": ("POST",), "/metrics": ("GET",)}
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD = frozenset({"", "0.0.0.0", "::"})
MAX_LINE = 65536  # bytes of the request line, as http.server allows
LINGER_SECONDS = 0.5  # after an early refusal, read what the client still sends for this long
# the page may run its own inline script and style and talk to this server, nothing else
PAGE_POLICY = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
               "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


class RequestTimeout(Exception):
    """The request did not arrive in full before its deadline."""


class _DeadlineReader(io.RawIOBase):
    """A socket's input that fails once a deadline has passed: each read waits at most the
    time left, so a client trickling one byte at a time cannot stretch a request forever."""

    def __init__(self, sock, deadline):
        self.sock, self.deadline = sock, deadline

    def readable(self):
        return True

    def readinto(self, buffer):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise RequestTimeout()
        self.sock.settimeout(left)
        try:
            return self.sock.recv_into(buffer)
        except TimeoutError:
            raise RequestTimeout() from None


def host_name(value):
    """The host part of a Host header or URL netloc, lower case: "[::1]:80" -> "::1"."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        value = value.split(":")[0]
    return value.rstrip(".")


def origin_host(origin):
    """The host of an Origin header ("null" and malformed ones -> "", which is never allowed)."""
    try:
        return host_name(urlsplit(origin).netloc)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return ""


def allowed_hosts(bound, extra=()):
    """The Host names a server bound to `bound` answers: that address, the loopback names if
    it is loopback, those and the machine's name if it is a wildcard, and `extra` ("*" = any)."""
    names = {host_name(bound)} | {host_name(h) for h in extra}
    if host_name(bound) in LOOPBACK | WILDCARD or bound.startswith("127."):
        names |= LOOPBACK
    if host_name(bound) in WILDCARD:  # every interface: the machine's own name too
        names.add(socket.gethostname().lower())
    return frozenset(names - WILDCARD)


def log_line(level, entry):
    """One JSON log line: time first, then the entry's fields."""
    logger.log(level, json.dumps({"time": datetime.now(timezone.utc).isoformat(
        timespec="milliseconds"), **entry}))


@functools.cache
def page():
    """The bytes of the page served at / (index.html beside this file)."""
    return resources.files(__package__).joinpath("index.html").read_bytes()


class Handler(BaseHTTPRequestHandler):
    server_version = "tinytorch-serve/0.2"
    protocol_version = "HTTP/1.0"

    def setup(self):
        super().setup()
        limits = self.server.service.limits
        self.started = time.perf_counter()
        self.requestline, self.request_version, self.command, self.path = "", "", None, ""
        self.entry = {"client": self.client_address[0], "method": None, "path": None,
                      "status": None}
        self.body_pending = False  # a body was announced but not read: linger before closing
        self.rfile.close()  # the socket closes only once every file made from it is closed
        deadline = time.monotonic() + limits.request_seconds
        self.rfile = io.BufferedReader(_DeadlineReader(self.connection, deadline))

    def handle(self):
        self.close_connection = True  # one request per connection
        try:
            try:
                if not self._read_and_answer():
                    return  # connected and left without a word: nothing to log
            except RequestTimeout:
                self.body_pending = True
                self._fail(408, "the request did not arrive within "
                                f"{self.server.service.limits.request_seconds:g} s")
        except (ConnectionError, TimeoutError) as err:  # the client left or stopped reading
            self.entry["error"] = f"{type(err).__name__}: {err}"
            self.body_pending = False  # nobody left to linger for
        # the line is complete once the answer is written; writing it before the linger's
        # shutdown means a client that has read its answer to the end finds it logged
        self._log()
        if self.body_pending:
            self._linger()

    def _read_and_answer(self):
        """Read the request line and headers, answer; False if the client sent nothing."""
        self.raw_requestline = self.rfile.readline(MAX_LINE + 1)
        if not self.raw_requestline:
            return False
        if len(self.raw_requestline) > MAX_LINE:
            self._fail(414, f"the request line is longer than {MAX_LINE} bytes")
        elif self.parse_request():  # else it has answered 400, 431 or 505
            self._dispatch()
        return True

    def _dispatch(self):
        route = self.path.split("?")[0]
        self.body_pending = "Content-Length" in self.headers \
            or "Transfer-Encoding" in self.headers
        refusal = self._refuse_origin()
        if refusal:
            self._fail(*refusal)
        elif route not in ROUTES:
            self._fail(404, f"no such endpoint: {self.command} {route[:200]}")
        elif self.command not in ROUTES[route]:
            allow = ", ".join(ROUTES[route])
            self._fail(405, f"{route} answers {allow}, not {self.command}", {"Allow": allow})
        else:
            {"/": self._page, "/health": self._health, "/metrics": self._metrics,
             "/generate": self._generate}[route]()

    def _refuse_origin(self):
        """(status, message) when the Host or Origin header names a host this server does not
        answer to (DNS rebinding, cross-site requests); None when both are fine."""
        allowed = self.server.allowed_hosts
        if "*" in allowed:
            return None
        host = self.headers.get("Host")
        if host is None:
            return 400, "a Host header is required"
        if host_name(host) not in allowed:
            return 421, (f"this server does not answer to Host {host[:100]!r}; it answers to "
                         f"{sorted(allowed)} (start it with --allow-host to add names)")
        origin = self.headers.get("Origin")
        if origin is not None and origin_host(origin) not in allowed:
            return 403, f"requests from pages at {origin[:100]!r} are not allowed"
        return None

    def _page(self):
        self._reply(200, page(), "text/html; charset=utf-8",
                    {"Content-Security-Policy": PAGE_POLICY})

    def _health(self):
        self._reply(200, self.server.service.health())

    def _metrics(self):
        exposition = self.server.metrics.exposition()
        if exposition is None:
            self._fail(501, "metrics need the prometheus_client package: "
                            f"pip install '{METRICS_EXTRA}'")
        else:
            self._reply(200, *exposition)

    def _generate(self):
        service = self.server.service
        try:
            params = service.parse(self._json_body(service.limits.max_body_bytes))
            self.entry["prompt_chars"] = len(params["prompt"])
            if self.server.log_prompts:
                self.entry["prompt"] = params["prompt"]
            answer = service.run(params)
            self.entry.update(prompt_tokens=answer["prompt_tokens"],
                              new_tokens=len(answer["tokens"]))
            self._reply(200, answer)
        except RequestError as err:
            headers = {"Retry-After": "1"} if err.status == 503 else {}
            self._fail(err.status, str(err), headers, log=err.log)
        except (RequestTimeout, ConnectionError, TimeoutError):
            raise  # handle() answers or logs them
        except Exception as err:  # a bug must not kill the server thread silently
            logger.exception("generation failed")
            self._fail(500, f"internal error: {type(err).__name__}: {err}")

    def _json_body(self, limit):
        """The body of a POST, after checking its type and announced length."""
        kind = self.headers.get("Content-Type", "")
        if kind.split(";")[0].strip().lower() != "application/json":
            raise RequestError("the body must be JSON sent with 'Content-Type: "
                               f"application/json', not {kind[:100]!r}", status=415)
        lengths = set(self.headers.get_all("Content-Length", []))
        if not lengths:
            raise RequestError("a Content-Length header with the body size is required", 411)
        length = lengths.pop().strip()
        if lengths or not re.fullmatch(r"[0-9]+", length):
            raise RequestError("the Content-Length header must be one whole number of bytes")
        if len(length) > 18 or int(length) > limit:
            raise RequestError(f"the body has {length[:20]} bytes; the limit is {limit}", 413)
        body = self.rfile.read(int(length))
        self.body_pending = False
        self.entry["bytes_in"] = len(body)
        if len(body) < int(length):
            raise RequestError(f"the body ended after {len(body)} of the {length} bytes its "
                               "Content-Length announced")
        return body

    def _fail(self, status, message, headers=None, log=None):
        self.entry["error"] = message if log is None else log
        self._reply(status, {"error": message}, headers=headers)

    def _reply(self, status, payload, content_type="application/json", headers=None):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
        seconds = time.perf_counter() - self.started
        self.entry.update(status=status, bytes_out=len(body), seconds=seconds)
        # counted before it is sent, so that a scrape of /metrics never includes itself
        self.server.metrics.request(route_label(self.path), method_label(self.command),
                                    status, seconds)
        self.connection.settimeout(self.server.service.limits.socket_timeout)
        self.request_version = "HTTP/1.0"  # a status line and headers, even for HTTP/0.9
        self.send_response(status)
        for name, value in {"Content-Type": content_type, "Content-Length": str(len(body)),
                            "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
                            "Connection": "close", **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def send_error(self, code, message=None, explain=None):
        """http.server's own refusals (bad request line, too many headers) as JSON too."""
        self._fail(code, message or explain or self.responses.get(code, ("error",))[0])

    def _linger(self):
        """Read (and drop) what the client is still sending, for a moment, after an early
        answer: closing over unread bytes would reset the connection before it reads."""
        end = time.monotonic() + LINGER_SECONDS
        try:
            self.connection.shutdown(socket.SHUT_WR)  # the answer is complete
            while (left := end - time.monotonic()) > 0:
                self.connection.settimeout(left)
                if not self.connection.recv(65536):
                    break
        except OSError:  # timed out or reset: done either way
            pass

    def _log(self):
        """The request's one log line: INFO for answers, WARNING for refusals and clients that
        left before their answer, ERROR for our own failures (500)."""
        self.entry.update(method=self.command, path=self.path[:200] or None)
        self.entry.setdefault("seconds", time.perf_counter() - self.started)
        status = self.entry["status"]
        if status is not None and status < 400:
            level = logging.INFO
        elif status is not None and status >= 500 and status not in (501, 503):
            level = logging.ERROR
        else:
            level = logging.WARNING
        log_line(level, self.entry)

    def log_request(self, code="-", size="-"):  # replaced by the one line of _log
        pass

    def log_error(self, format, *args):
        self.entry["error"] = format % args

    def log_message(self, format, *args):
        logger.debug("%s %s", self.address_string(), format % args)
