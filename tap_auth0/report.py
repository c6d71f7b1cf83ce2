"""What a run did, in one table: per stream the records, requests, 429s, retries and
seconds, then the streams skipped and why, and any logs retention gap.

`RunStats` is told of every HTTP attempt by the client (one call per attempt, keyed by the
endpoint's path template, the `bucket` a stream passes); the report maps each template back
to its stream. The table goes to stderr at the end of every run; `run_report_path` also
writes it as JSON, for an orchestrator to alert on (a run that skipped a stream or lost logs
to retention still exits 0).
"""

from __future__ import annotations

import json
import threading
import time
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from tap_auth0.errors import ConfigError
from tap_auth0.http_decisions import Action, Attempt

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

API_PREFIX = "/api/v2"
# Endpoints whose path template is not a stream's own `path`.
EXTRA_ENDPOINTS = {
    "/users/{id}": "user_detail",
    "/jobs/users-exports": "users",
    "/jobs/{id}": "users",
    "/oauth/token": "(token)",
}


@dataclass
class EndpointStats:
    requests: int = 0
    throttled: int = 0
    retries: int = 0
    first: float | None = None
    last: float | None = None


class RunStats:
    """Thread-safe tallies per endpoint, fed by the HTTP client."""

    def __init__(self, clock: t.Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.endpoints: dict[str, EndpointStats] = {}

    def count(self, endpoint: str, attempt: Attempt, action: Action) -> None:
        """One request sent to `endpoint`: `attempt` (http_decisions.Attempt) says what
        the ones before it met (a retry when any failed, was throttled or refused a token),
        `action` what becomes of it (WAIT: it was answered 429)."""
        retry = bool(attempt.failures or attempt.throttles or attempt.refused)
        self.sent(endpoint, retry=retry)
        if action is Action.WAIT:
            self.throttled(endpoint)

    def sent(self, endpoint: str, *, retry: bool) -> None:
        now = self._clock()
        with self._lock:
            stats = self.endpoints.get(endpoint)
            if stats is None:
                stats = self.endpoints[endpoint] = EndpointStats(first=now)
            stats.requests += 1
            stats.retries += retry
            stats.last = now

    def throttled(self, endpoint: str) -> None:
        """`endpoint` answered 429."""
        with self._lock:
            stats = self.endpoints.setdefault(endpoint, EndpointStats())
            stats.throttled += 1
            stats.last = self._clock()


@dataclass
class StreamLine:
    stream: str
    records: int = 0
    requests: int = 0
    throttled: int = 0
    retries: int = 0
    seconds: float = 0.0


@dataclass
class RunReport:
    status: str
    seconds: float
    streams: list[StreamLine]
    skipped: dict[str, str] = field(default_factory=dict)
    retention_gaps: list[dict[str, t.Any]] = field(default_factory=list)
    error: str | None = None
    # Full tables whose ACTIVATE_VERSION the shrink guard held: (rows read, rows last time).
    held_back: dict[str, tuple[int, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, t.Any]:
        def row(s: StreamLine) -> dict[str, t.Any]:
            return {
                "stream": s.stream,
                "records": s.records,
                "requests": s.requests,
                "429s": s.throttled,
                "retries": s.retries,
                "seconds": round(s.seconds, 1),
            }

        totals = row(self._total())
        del totals["stream"], totals["seconds"]
        return {
            "status": self.status,
            "seconds": round(self.seconds, 1),
            "streams": [row(s) for s in self.streams],
            "totals": totals,
            "skipped": dict(self.skipped),
            "retention_gaps": list(self.retention_gaps),
            "held_back": {
                name: {"rows": rows, "last_rows": last}
                for name, (rows, last) in self.held_back.items()
            },
            "error": self.error,
        }

    def table(self) -> list[str]:
        width = max([len("stream"), *(len(s.stream) for s in self.streams)])
        head = f"  {'stream':<{width}} {'records':>9} {'requests':>9} {'429s':>5} {'retries':>7}"
        lines = [
            f"Run summary ({self.status}, {self.seconds:,.1f}s):",
            f"{head} {'seconds':>8}",
        ]
        for s in [*self.streams, self._total()]:
            lines.append(
                f"  {s.stream:<{width}} {s.records:>9,} {s.requests:>9,} {s.throttled:>5,} "
                f"{s.retries:>7,} {s.seconds:>8,.1f}"
            )
        for name, why in self.skipped.items():
            lines.append(f"  skipped: {name} ({why})")
        for name, (rows, last) in self.held_back.items():
            lines.append(
                f"  held back: {name} read {rows:,} rows, {last:,} last time; ACTIVATE_VERSION "
                "not sent (max_table_shrink)"
            )
        for gap in self.retention_gaps:
            lines.append(
                f"  logs retention gap: events after {gap.get('lost_after', '?')} up to "
                f"{gap.get('resumed_at') or 'now'} were deleted by Auth0 before they were read"
            )
        return lines

    def _total(self) -> StreamLine:
        total = StreamLine("total")
        for s in self.streams:
            for key in COUNTED:
                setattr(total, key, getattr(total, key) + getattr(s, key))
        total.seconds = self.seconds
        return total

    def write(self, path: str) -> None:
        target = Path(path)
        try:
            target.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"Setting 'run_report_path': cannot write {path} ({exc.strerror or exc})"
            ) from None


COUNTED = ("records", "requests", "throttled", "retries")


def stream_of(endpoint: str, paths: Mapping[str, str]) -> str:
    """The stream an endpoint's requests belong to (`paths`: path template -> stream);
    the endpoint itself when no stream declares it (the token endpoint, say)."""
    path = endpoint[len(API_PREFIX) :] if endpoint.startswith(API_PREFIX + "/") else endpoint
    return paths.get(path) or EXTRA_ENDPOINTS.get(path) or path


def build_report(
    *,
    status: str,
    seconds: float,
    stats: RunStats,
    records: Mapping[str, int],
    paths: Mapping[str, str],
    order: Iterable[str],
    skipped: Mapping[str, str],
    retention_gaps: Iterable[dict[str, t.Any]] = (),
    held_back: Mapping[str, tuple[int, int]] | None = None,
    error: str | None = None,
) -> RunReport:
    """One line per stream that wrote records or made requests, in `order`; endpoints no
    stream declares (the token endpoint) come last under their own path."""
    lines: dict[str, StreamLine] = {}
    spans: dict[str, tuple[float, float]] = {}
    for endpoint, ep in stats.endpoints.items():
        name = stream_of(endpoint, paths)
        line = lines.setdefault(name, StreamLine(name))
        line.requests += ep.requests
        line.throttled += ep.throttled
        line.retries += ep.retries
        if ep.first is not None and ep.last is not None:
            lo, hi = spans.get(name, (ep.first, ep.last))
            spans[name] = (min(lo, ep.first), max(hi, ep.last))
    for name, count in records.items():
        lines.setdefault(name, StreamLine(name)).records += count
    for name, (lo, hi) in spans.items():
        lines[name].seconds = hi - lo
    rank = {name: i for i, name in enumerate(order)}
    ordered = sorted(lines.values(), key=lambda s: (rank.get(s.stream, len(rank)), s.stream))
    return RunReport(
        status=status,
        seconds=seconds,
        streams=ordered,
        skipped=dict(skipped),
        retention_gaps=list(retention_gaps),
        error=error,
        held_back=dict(held_back or {}),
    )
