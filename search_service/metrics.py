"""Request counts and latencies per endpoint, and the Prometheus text format (0.0.4).

One ``RequestMetrics`` per application (kept in ``app.extensions``), filled by the hooks of
``search_service.ops``. Counters live in the process: under gunicorn each worker counts its
own requests, and a scrape sees the worker that answered it (sum them with ``sum by``
over the ``instance``/``pid`` labels, or scrape through one worker per port).
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from typing import Iterable

#: Latency histogram buckets (seconds): searches run a model, IIIF pages do not.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RequestMetrics:
    """Thread-safe counters keyed by (endpoint, method, status) and latency histograms per endpoint."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self._buckets: dict[str, list[int]] = {}
        self._sum: dict[str, float] = defaultdict(float)
        self._count: dict[str, int] = defaultdict(int)

    def observe(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(endpoint, method, str(status))] += 1
            buckets = self._buckets.setdefault(endpoint, [0] * len(BUCKETS))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    buckets[i] += 1
            self._sum[endpoint] += seconds
            self._count[endpoint] += 1

    def lines(self) -> list[str]:
        with self._lock:
            out = ["# HELP loupe_http_requests_total HTTP requests answered, by endpoint, method and status.",
                   "# TYPE loupe_http_requests_total counter"]
            for (endpoint, method, status), n in sorted(self.requests.items()):
                out.append(f"loupe_http_requests_total{labels(endpoint=endpoint, method=method, status=status)} {n}")
            out += ["# HELP loupe_http_request_duration_seconds Time to answer, by endpoint.",
                    "# TYPE loupe_http_request_duration_seconds histogram"]
            for endpoint, buckets in sorted(self._buckets.items()):
                for bound, n in zip(BUCKETS, buckets):
                    out.append(f"loupe_http_request_duration_seconds_bucket{labels(endpoint=endpoint, le=repr(bound))} {n}")
                out.append(f"loupe_http_request_duration_seconds_bucket{labels(endpoint=endpoint, le='+Inf')} "
                           f"{self._count[endpoint]}")
                out.append(f"loupe_http_request_duration_seconds_sum{labels(endpoint=endpoint)} {self._sum[endpoint]:.6f}")
                out.append(f"loupe_http_request_duration_seconds_count{labels(endpoint=endpoint)} {self._count[endpoint]}")
        return out


def labels(**values: str) -> str:
    """``{name="value",...}`` with the escapes of the text format (backslash, quote, newline)."""
    def escape(v: str) -> str:
        return str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return "{" + ",".join(f'{k}="{escape(v)}"' for k, v in values.items()) + "}"


def gauge(name: str, help_text: str, samples: Iterable[tuple[dict[str, str], float]]) -> list[str]:
    out = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    for label_values, value in samples:
        out.append(f"{name}{labels(**label_values) if label_values else ''} {value:g}")
    return out


def process_lines() -> list[str]:
    return gauge("loupe_process_id", "This worker process (metrics are per process).", [({}, os.getpid())])
