"""Serving a TinyGPT export over HTTP with the standard library (http.server).

    GET  /          -> a page where a learner types a prompt and reads the continuation
    POST /generate {"prompt": "...", "max_new_tokens": 100, "temperature": 0.8,
                    "top_k": null, "top_p": null, "seed": null}
      -> 200 {"text": completion, "tokens": [ids], "prompt_tokens": n, "seconds": s}
    GET /health -> 200 {"status": "ok", "model": "GPT", "config": {...}, "limits": {...}}
    GET /metrics -> the Prometheus text format (needs the extra tt-systems[metrics])

Every refusal is a JSON {"error": message} with its HTTP status (handler.py reads, checks and
routes a request; the README lists each status). Requests run on threads (ThreadingHTTPServer),
at most `max_connections` at once. Generation shares nothing mutable: the model is in eval mode
and only read, grad mode is per thread (each request runs under no_grad), and each request
builds its own KV cache and random generator. `max_concurrent` bounds how many generate at once
(1 turns it into a lock around generation).
"""

import json
import logging
import socket
import sys
import threading
import time
from http.server import ThreadingHTTPServer

from .export import load_for_serving
from .handler import Handler, allowed_hosts, log_line
from .service import GenerationService

logger = logging.getLogger("tt_systems.server")
logger.addHandler(logging.NullHandler())  # a library prints nothing unless its user asks


PARK_SECONDS = 1.0  # a refused connection stays open this long for its client to read the 503
MAX_PARKED = 1024  # beyond this many, refused connections are closed at once


def _drained(sock):
    """Read whatever a non-blocking socket has waiting; True once the client has closed."""
    try:
        for _ in range(16):  # at most 1 MiB a call: a client cannot keep us here
            if not sock.recv(65536):
                return True
    except BlockingIOError:  # nothing more waiting now
        return False
    except OSError:  # reset: as good as closed
        return True
    return False


BUSY = (b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        b"Retry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s")


class InferenceServer(ThreadingHTTPServer):
    """ThreadingHTTPServer holding a GenerationService; request threads are daemons.

    At most `limits.max_connections` connections are served at once: the next one is answered
    503 straight from the accepting thread and closed. Requests whose Host (or Origin) is not
    in `allowed_hosts` are refused (421, 403): by default the bound address, plus the loopback
    names when bound to loopback; `allow_hosts` adds names ("*" allows any)."""

    daemon_threads = True
    request_queue_size = 128  # socketserver's default listen backlog (5) resets a burst of 20

    def __init__(self, address, service, allow_hosts=(), log_prompts=False):
        self.service = service
        self.metrics = service.metrics
        self.log_prompts = log_prompts
        self._open = 0
        self._open_lock = threading.Lock()
        self._parked = []  # (close by, socket) of connections refused at the cap
        super().__init__(address, Handler)
        self.allowed_hosts = allowed_hosts(self.server_address[0], allow_hosts)

    @property
    def open_connections(self):
        """How many connections are being served now: accepted under the cap and not yet
        answered, logged and closed (one refused at the cap is never counted). Once it is 0
        after shutdown(), every accepted connection has written its log line."""
        with self._open_lock:
            return self._open

    @property
    def url(self):
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}"

    def process_request(self, request, client_address):
        with self._open_lock:
            full = self._open >= self.service.limits.max_connections
            self._open += 0 if full else 1
        if full:
            self._refuse(request, client_address)
            return
        self.metrics.gauge("connections", 1)
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread started: give the slot back
            self._closed_one()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._closed_one()

    def _closed_one(self):
        with self._open_lock:
            self._open -= 1
        self.metrics.gauge("connections", -1)

    def _refuse(self, request, client_address):
        """503 without a thread and without waiting. The socket is then parked, not closed:
        closing it while the client's request is still arriving would reset the connection,
        and the client could lose the 503 before reading it."""
        limit = self.service.limits.max_connections
        body = json.dumps({"error": f"too many connections (the limit is {limit}); "
                                    "try again later"}).encode("utf-8")
        # counted and logged before the 503 leaves: a client that has read it finds both
        self.metrics.rejected("connections")
        log_line(logging.WARNING, {"client": client_address[0], "status": 503,
                                   "error": f"connection limit {limit} reached"})
        try:
            request.setblocking(False)
            _drained(request)
            request.send(BUSY % (len(body), body))
            request.shutdown(socket.SHUT_WR)
        except OSError:  # the client has gone already
            pass
        if len(self._parked) < MAX_PARKED:
            self._parked.append((time.monotonic() + PARK_SECONDS, request))
        else:
            self.close_request(request)

    def service_actions(self):
        """Between requests (serve_forever's loop): close the parked refused sockets whose
        client has closed too, or that have waited PARK_SECONDS."""
        now = time.monotonic()
        parked, self._parked = self._parked, []
        for end, sock in parked:
            if _drained(sock) or now >= end:
                self.close_request(sock)
            else:
                self._parked.append((end, sock))

    def server_close(self):
        for _, sock in self._parked:
            self.close_request(sock)
        self._parked = []
        super().server_close()

    def handle_error(self, request, client_address):
        """One line for a client that vanished mid-request; a traceback only for our bugs."""
        err = sys.exc_info()[1]
        if isinstance(err, (ConnectionError, TimeoutError)):
            log_line(logging.WARNING, {"client": client_address[0],
                                       "error": f"{type(err).__name__}: {err}"})
        else:
            logger.exception("unexpected error serving %s", client_address[0])


def make_server(export_dir, host="127.0.0.1", port=0, limits=None, allow_hosts=(),
                log_prompts=False):
    """An InferenceServer bound to (host, port) for the export in `export_dir` (or a TinyGPT
    training folder), not yet serving: call serve_forever() (in a thread for tests).
    port=0 picks a free port. allow_hosts: more Host names to answer ("*" = any);
    log_prompts: put the prompt text in each request's log line."""
    model, tokenizer = load_for_serving(export_dir)
    return InferenceServer((host, port), GenerationService(model, tokenizer, limits),
                           allow_hosts, log_prompts)


def serve(export_dir, host="127.0.0.1", port=0, limits=None, ready=None, allow_hosts=(),
          log_prompts=False):
    """Serve `export_dir` until interrupted. ready(server), if given, is called once bound
    (port=0 picks a free port: read server.url there)."""
    server = make_server(export_dir, host, port, limits, allow_hosts, log_prompts)
    try:
        if ready is not None:
            ready(server)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
