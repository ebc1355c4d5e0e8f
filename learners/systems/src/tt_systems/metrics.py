"""What the server counts, in the Prometheus exposition format (`GET /metrics`).

prometheus_client is an optional extra (`pip install 'tt-systems[metrics]'`): without it the
server runs the same, counts nothing, and /metrics answers 501 naming the extra. Each server owns
a private CollectorRegistry, so two servers in one process never share counts.
"""

import importlib

METRICS_EXTRA = "tt-systems[metrics]"
ROUTES = ("/", "/health", "/generate", "/metrics")  # label values; any other path is "other"
METHODS = ("GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS")
# seconds: the fast refusals (~1 ms) up to long generations
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
THROUGHPUT_BUCKETS = (1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000)  # tokens/s


def route_label(path):
    """The route label of a request path: a known route, or "other" (bounded cardinality)."""
    route = (path or "").split("?")[0]
    return route if route in ROUTES else "other"


def method_label(method):
    return method if method in METHODS else "other"


class ServerMetrics:
    """The server's counters; every method is a no-op when prometheus_client is missing."""

    def __init__(self):
        try:
            prom = importlib.import_module("prometheus_client")
        except ImportError:
            prom = None
        self.available = prom is not None
        self.registry = None
        if prom is not None:
            self._prom = prom
            self.registry = prom.CollectorRegistry(auto_describe=True)
            self._create(prom, self.registry)

    def _create(self, prom, reg):
        ns = "tinytorch"
        self.requests = prom.Counter("serve_requests", "HTTP requests answered, by route, "
                                     "method and status", ["route", "method", "status"],
                                     namespace=ns, registry=reg)
        self.latency = prom.Histogram("serve_request_duration_seconds", "time from the first "
                                      "byte of a request to its response, by route", ["route"],
                                      namespace=ns, registry=reg, buckets=LATENCY_BUCKETS)
        self.tokens = prom.Counter("serve_generated_tokens", "tokens generated",
                                   namespace=ns, registry=reg)
        self.gen_seconds = prom.Counter("serve_generation_seconds", "seconds spent generating "
                                        "(tokens / seconds = throughput)", namespace=ns,
                                        registry=reg)
        self.throughput = prom.Histogram("serve_generation_tokens_per_second", "throughput of "
                                         "each generation", namespace=ns, registry=reg,
                                         buckets=THROUGHPUT_BUCKETS)
        self.queue = prom.Gauge("serve_queue_depth", "requests waiting for a generation slot",
                                namespace=ns, registry=reg)
        self.active = prom.Gauge("serve_generations_in_progress", "generations running",
                                 namespace=ns, registry=reg)
        self.connections = prom.Gauge("serve_open_connections", "connections being served",
                                      namespace=ns, registry=reg)
        self.rejections = prom.Counter("serve_rejections", "requests turned away with 503, by "
                                       "reason: 'connections' (cap at accept) or 'queue' (no "
                                       "generation slot in time)", ["reason"], namespace=ns,
                                       registry=reg)
        for reason in ("connections", "queue"):  # exported at 0 before the first rejection
            self.rejections.labels(reason)

    def request(self, route, method, status, seconds):
        if self.available:
            self.requests.labels(route, method, str(status)).inc()
            self.latency.labels(route).observe(seconds)

    def generated(self, tokens, seconds):
        if self.available:
            self.tokens.inc(tokens)
            self.gen_seconds.inc(seconds)
            if seconds > 0:
                self.throughput.observe(tokens / seconds)

    def rejected(self, reason):
        if self.available:
            self.rejections.labels(reason).inc()

    def gauge(self, name, delta):
        """Move the gauge `name` ("queue", "active" or "connections") by delta."""
        if self.available:
            getattr(self, name).inc(delta)

    def exposition(self):
        """(body bytes, content type) of the text format, or None without prometheus_client."""
        if not self.available:
            return None
        return self._prom.generate_latest(self.registry), self._prom.CONTENT_TYPE_LATEST
