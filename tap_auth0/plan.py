"""What a run will cost, from a handful of requests: `--test` prints it before any data moves.

Per selected stream: whether the token's scopes allow it, the records to expect where Auth0
gives a total (one `per_page=1&include_totals=true` request per listed endpoint; nothing of
the tenant is read), the requests a full run makes, and the time they take at the rate limit
the tenant reported in those answers' `x-ratelimit-*` headers. Streams that cost a request per
user, role, organization or connection say so: they are what makes a first run long.
"""

from __future__ import annotations

import math
import typing as t
from dataclasses import dataclass

from tap_auth0.errors import FeatureNotEnabled, ScopeError
from tap_auth0.progress import duration
from tap_auth0.ratelimit import DOCUMENTED_RATES
from tap_auth0.totals import COUNTABLE, count

if t.TYPE_CHECKING:
    from tap_auth0.client import Auth0Stream
    from tap_auth0.http_client import Auth0HTTP
    from tap_auth0.settings import Settings

# A child stream's parent, as the unit its requests are counted in.
PER = {
    "users": "user",
    "roles": "role",
    "organizations": "organization",
    "connections": "connection",
}
PAGE = 100


@dataclass
class StreamPlan:
    name: str
    scope: str
    missing: tuple[str, ...] = ()
    records: int | None = None
    requests: int | None = None
    at_least: bool = False  # a child: one request per parent, more for a long list
    per: str | None = None
    note: str = ""
    rate: float | None = None

    @property
    def seconds(self) -> float | None:
        if self.requests is None or not self.rate:
            return None
        return self.requests / self.rate

    def line(self) -> str:
        if self.missing:
            return f"  {self.name}: scope {self.scope}: cannot be read with this token"
        parts = [f"scope {self.scope}"] if self.scope else []
        if self.records is not None:
            parts.append(f"{self.records:,} record{'s' if self.records != 1 else ''}")
        else:
            parts.append(f"records unknown until read{f' ({self.note})' if self.note else ''}")
        if self.requests == 0 and self.note.startswith("from "):
            parts.append("no requests of its own")
        elif self.requests is not None:
            plus = "+" if self.at_least else ""
            cost = f"{self.requests:,}{plus} request{'s' if self.requests != 1 else ''}"
            if self.per:
                cost += f", one per {self.per}"
            parts.append(cost)
        seconds = self.seconds
        if seconds is not None:
            parts.append(f"about {duration(seconds)}" if seconds >= 1 else "under 1s")
        return f"  {self.name}: {'; '.join(parts)}"


@dataclass
class Plan:
    streams: list[StreamPlan]
    rate: float | None
    users_mode: str
    scopes_unreadable: bool = False

    @property
    def missing(self) -> dict[str, tuple[str, ...]]:
        return {s.name: s.missing for s in self.streams if s.missing}

    def lines(self) -> list[str]:
        limit = (
            f"at the tenant's rate limit of {self.rate:,.1f} requests/s (x-ratelimit-* headers)"
            if self.rate
            else "no rate limit reported by the tenant"
        )
        head = f"Plan for a full run (users by {self.users_mode}; {limit}):"
        if self.scopes_unreadable:
            head += (
                "\n  (scopes: not readable from this token, which is not a JWT; each stream "
                "is checked as it runs, and one refused is skipped)"
            )
        requests = sum(s.requests or 0 for s in self.streams)
        lower = any(s.at_least or s.requests is None for s in self.streams)
        seconds = sum(s.seconds or 0.0 for s in self.streams)
        total = f"  total: {requests:,}{'+' if lower else ''} requests"
        if self.rate:
            total += f", about {duration(seconds)}" if seconds >= 1 else ", under 1s"
        fanouts = [s.name for s in self.streams if s.per]
        lines = [head, *(s.line() for s in self.streams), total]
        if fanouts:
            lines.append(
                f"  {len(fanouts)} stream(s) cost a request per parent record: {', '.join(fanouts)}"
            )
        return lines


def users_mode(settings: Settings, users: int | None) -> str:
    """How a first run lists users (as `UsersStream.resolve_mode` decides it)."""
    if settings.user_ids:
        return "ID (user_ids)"
    mode = settings.users_extraction
    if mode == "auto":
        big = users is not None and users >= settings.auto_export_threshold
        mode = "export" if big and not settings.export_blockers else "search"
    return mode


def build(
    streams: t.Sequence[Auth0Stream],
    http: Auth0HTTP,
    settings: Settings,
    *,
    scopes: frozenset[str] | None,
    users: int | None,
) -> Plan:
    """The plan for `streams` (the selected ones, parents before children)."""
    totals: dict[str, int | None] = {"users": users}
    plans: dict[str, StreamPlan] = {}
    mode = users_mode(settings, users)
    for stream in streams:
        plan = StreamPlan(stream.name, scope=_scope(stream, scopes))
        if stream.lacks_scope(scopes):
            plan.missing = stream.scopes
        plans[stream.name] = plan
        parent = stream.parent.name if stream.parent else None
        refused = plans.get(parent or "")
        if refused is not None and refused.missing and not plan.missing:
            plan.scope = f"{plan.scope}, but its parent '{parent}' is refused"
            plan.missing = refused.missing
        if parent is None:
            _top_level(plan, stream, http, settings, totals, mode)
        else:
            _child(plan, stream, parent, totals, settings)
        if plan.missing:
            plan.requests, plan.records, plan.per, plan.at_least = 0, None, None, False
    rate = measured_rate(http, settings)
    for plan in plans.values():
        plan.rate = rate
    return Plan(list(plans.values()), rate, mode, scopes_unreadable=scopes is None)


def _scope(stream: Auth0Stream, scopes: frozenset[str] | None) -> str:
    if not stream.scopes:
        return "ok"
    if scopes is None:
        return ""
    held = scopes.intersection(stream.scopes)
    if held:
        return f"ok ({', '.join(sorted(held))})"
    return f"MISSING {' or '.join(stream.scopes)}"


def _counted(
    plan: StreamPlan,
    stream: Auth0Stream,
    http: Auth0HTTP,
    settings: Settings,
    totals: dict[str, int | None],
    mode: str,
) -> None:
    """A listed stream whose total Auth0 gives: records, and pages of them."""
    if stream.name not in totals:
        try:
            totals[stream.name] = count(http, stream.path)
        except FeatureNotEnabled:
            plan.scope = "not in the tenant's plan (will be skipped)"
            return
        except ScopeError as exc:
            plan.scope = f"MISSING {' or '.join(exc.scopes) or 'a read scope'}"
            plan.missing = exc.scopes or stream.scopes
            return
    total = totals[stream.name]
    plan.records = total
    page = settings.page_size if stream.name == "users" else PAGE
    if total is not None:
        plan.requests = max(math.ceil(total / page), 1)
    if stream.name == "users" and mode == "export":
        plan.requests = 3
        plan.note = "" if total is not None else "an export job"
    elif stream.name == "users":
        plan.at_least = True  # windows and tie groups add a few


def _top_level(
    plan: StreamPlan,
    stream: Auth0Stream,
    http: Auth0HTTP,
    settings: Settings,
    totals: dict[str, int | None],
    mode: str,
) -> None:
    if plan.missing:
        return
    if stream.name == "user_detail":  # user_ids: fetched by ID, no listing
        ids = len(settings.user_ids or [])
        plan.records, plan.requests, plan.per = ids, ids, "user ID"
        return
    if stream.path in COUNTABLE:
        _counted(plan, stream, http, settings, totals, mode)
        return
    plan.requests, plan.at_least = 1, True
    if stream.name == "logs":
        plan.note = "Auth0 gives no count of log events"
    elif stream.name == "stats_daily":
        plan.note = "a row per day Auth0 keeps"
    elif stream.name == "stats_active_users":
        plan.records, plan.at_least = 1, False
    elif stream.name == "log_streams":
        plan.at_least = False


def _child(
    plan: StreamPlan,
    stream: Auth0Stream,
    parent: str,
    totals: dict[str, int | None],
    settings: Settings,
) -> None:
    parents = totals.get(parent)
    if stream.derived_from is not None:
        plan.requests, plan.note = 0, f"from {stream.derived_from.name}'s answers"
        return
    plan.per = PER.get(parent, parent)
    if parents is None:
        plan.note = f"one request per {plan.per}; the {parent} count is unknown"
        plan.per = None
        return
    plan.requests = parents
    if stream.name == "user_detail":
        plan.records = parents
    else:
        plan.at_least = True


def measured_rate(http: Auth0HTTP, settings: Settings) -> float | None:
    """Requests/s of the slowest bucket the probes met: the documented refill rate of a
    bucket of the size `x-ratelimit-limit` said, else the scheduler's estimate from the
    headers; `max_requests_per_second` caps it."""
    rates = []
    for limit, bucket in http.scheduler.snapshot()["buckets"].items():
        documented = DOCUMENTED_RATES.get(int(limit))
        rate = documented or bucket.get("rate")
        if rate:
            rates.append(float(rate))
    if settings.max_requests_per_second:
        rates = [min(r, settings.max_requests_per_second) for r in rates] or [
            settings.max_requests_per_second
        ]
    return min(rates) if rates else None
