"""``GET /api/v2/logs`` (checkpoint and search), ``/logs/{id}``, ``/stats/daily`` and
``/stats/active-users``.

Checkpoint (``from`` and/or ``take``): a bare array in log_id order with a
``Link: <.../api/v2/logs?from=<last id>&take=N>; rel="next"`` header (an empty page repeats the
request's ``from``). Search (``q``/``sort``/``page``/``per_page``/``include_totals``/``fields``):
Lucene over the held events, at most 1,000 results reachable.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .errors import auth0_error, query_error
from .lucene import And, Exists, MatchAll, Node, Not, Or, QueryError, Range, Term, parse
from .messages import Request, Response, json_response
from .paging import PAGING_CAP, bool_param, projector
from .timeutil import parse_instant

if TYPE_CHECKING:
    from .logs import LogStore
    from .state import SandboxState

Doc = dict[str, Any]
Pred = Callable[[Doc], bool]

_DESC = {
    "take": "(Number of entries to retrieve when using the from parameter. Default 50, max 100)",
    "from": "(Log Event Id from which to start selection from)",
    "page": "(Page index of the results to return. First page is 0)",
    "per_page": "(Number of results per page. Paging is disabled if parameter not sent. "
    "Default: 50. Max value: 100)",
    "sort": "(Field to use for sorting appended with :1 for ascending and :-1 for "
    "descending. e.g. date:-1)",
    "q": "(Query in Lucene query string syntax)",
    "stats_from": "(Optional first day of the date range (inclusive) in YYYYMMDD format.)",
    "stats_to": "(Optional last day of the date range (inclusive) in YYYYMMDD format.)",
}
# Invented (Auth0 documents neither): see the README.
EXPIRED_FROM_BODY = {
    "statusCode": 400,
    "error": "Bad Request",
    "message": "The 'from' parameter is outside the retention period",
    "errorCode": "invalid_query_string",
}
LOG_PAGING_MESSAGE = (
    "You can only page through the first 1000 records. See "
    "https://auth0.com/docs/logs/retrieve-log-events-using-mgmt-api#limitations"
)
_SORT = re.compile(r"^([A-Za-z0-9_.]+):(1|-1)$")
_DIGITS = re.compile(r"^\d+$")
_YYYYMMDD = re.compile(r"^\d{8}$")
# Fields a query term without a field name searches.
DEFAULT_FIELDS = ("user_name", "user_id", "description", "client_name", "ip", "type", "connection")


def _int(q: dict[str, str], name: str, default: int, lo: int, hi: int | None) -> int:
    raw = q.get(name)
    if raw is None or raw == "":
        return default
    detail = f"{name} {_DESC[name]}"
    try:
        value = int(raw)
    except ValueError:
        msg = f"'Expected type integer but found type string' on property {detail}."
        raise query_error(msg) from None
    if value < lo:
        raise query_error(f"'Value {value} is less than minimum {lo}' on property {detail}.")
    if hi is not None and value > hi:
        raise query_error(f"'Value {value} is greater than maximum {hi}' on property {detail}.")
    return value


# -- /logs --------------------------------------------------------------------------------------
def list_logs(sb: SandboxState, req: Request) -> Response:
    store = sb.logs
    store.apply_retention()
    q = req.query
    if q.get("from") not in (None, "") or q.get("take") not in (None, ""):
        return _checkpoint(sb, store, q)
    return _search(store, q)


def _checkpoint(sb: SandboxState, store: LogStore, q: dict[str, str]) -> Response:
    take = _int(q, "take", 50, 1, 100)
    from_id = q.get("from") or ""
    if from_id:
        if not _DIGITS.match(from_id):
            raise query_error(
                f"'String does not match pattern ^\\d+$' on property from {_DESC['from']}."
            )
        if store.is_expired_checkpoint(from_id) and sb.config.expired_from == "400":
            raise auth0_error(400, EXPIRED_FROM_BODY["message"], EXPIRED_FROM_BODY["errorCode"])
        events = store.after(from_id, take)
    else:
        events = store.newest(take)
    next_from = events[-1]["log_id"] if events else from_id
    link = f"{sb.base_url}/api/v2/logs?from={quote(next_from)}&take={take}"
    return json_response(200, events, {"Link": f'<{link}>; rel="next"'})


def _search(store: LogStore, q: dict[str, str]) -> Response:
    page = _int(q, "page", 0, 0, None)
    per_page = _int(q, "per_page", 50, 0, 100)
    totals = bool_param(q, "include_totals", False)
    project = projector(q)
    sort_field, descending = None, True
    if q.get("sort"):
        m = _SORT.match(q["sort"])
        if m is None:
            raise query_error(
                "'String does not match pattern ^(([a-zA-Z0-9_\\.]+))\\:(1|-1)$' "
                f"on property sort {_DESC['sort']}."
            )
        sort_field, descending = m.group(1), m.group(2) == "-1"
    pred: Pred | None = None
    if q.get("q", "").strip():
        try:
            pred = compile_log_query(parse(q["q"]))
        except QueryError as exc:
            raise query_error(f"'{exc}' on property q {_DESC['q']}.") from None
    if (page + 1) * per_page > PAGING_CAP:
        raise auth0_error(400, LOG_PAGING_MESSAGE, "invalid_paging")
    offset = page * per_page
    need = offset + per_page
    with store.lock:
        ordered = _ordered(store, sort_field, descending)
        found: list[Doc] = []
        total = 0
        for e in ordered:
            if pred is None or pred(e):
                total += 1
                if len(found) < need:
                    found.append(e)
                elif not totals:
                    break
        if pred is None and totals:
            total = len(store.events)
    logs = [project(e) for e in found[offset:need]]
    if not totals:
        return json_response(200, logs)
    return json_response(
        200, {"start": offset, "limit": per_page, "length": len(logs), "total": total, "logs": logs}
    )


def _ordered(store: LogStore, field: str | None, descending: bool) -> Any:
    """Held events in the requested order (default: newest log_id first, as recorded)."""
    events = store.events
    if field is None or field == "log_id":
        return reversed(events) if descending else iter(events)
    cache = getattr(store, "_sort_cache", None)
    key = (store.version, field)
    if cache is None or cache[0] != key:
        present = [e for e in events if _scalar(e.get(field)) is not None]
        missing = [e for e in events if _scalar(e.get(field)) is None]
        present.sort(key=lambda e: (_sort_key(e.get(field)), e["log_id"]))
        cache = (key, present, missing)
        store._sort_cache = cache  # type: ignore[attr-defined]
    _, present, missing = cache
    return [*reversed(present), *missing] if descending else [*present, *missing]


def _scalar(v: Any) -> Any:
    return v if isinstance(v, (str, int, float, bool)) else None


def _sort_key(v: Any) -> tuple[int, Any]:
    if isinstance(v, bool):
        return (0, int(v))
    if isinstance(v, (int, float)):
        return (1, v)
    return (2, str(v))


def get_log(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    sb.logs.apply_retention()
    with sb.logs.lock:
        event = sb.logs.by_id.get(id)
    if event is None:
        raise auth0_error(404, "The log does not exist.", "inexistent_log")
    return json_response(200, projector(req.query)(event))


# -- query compilation ---------------------------------------------------------------------------
def compile_log_query(node: Node) -> Pred:
    """A predicate over log events: exact (case-sensitive) values, dot paths into objects,
    dates as instants (a date without time covers the whole day)."""
    if isinstance(node, MatchAll):
        return lambda e: True
    if isinstance(node, Exists):
        path = node.field
        return lambda e: any(v is not None for v in _values(e, path))
    if isinstance(node, Term):
        if node.field is None:
            preds = [
                compile_log_query(Term(f, node.text, node.phrase, node.pattern))
                for f in DEFAULT_FIELDS
            ]
            return lambda e: any(p(e) for p in preds)
        path = node.field
        if node.pattern is not None:
            rx = re.compile(
                "".join(
                    ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in node.pattern
                )
                + r"\Z",
                re.S,
            )
            return _any(path, lambda v: isinstance(v, str) and rx.match(v) is not None)
        if path == "date":
            return compile_log_query(Range("date", node.text, node.text, True, True))
        return _any(path, _equals(node.text))
    if isinstance(node, Range):
        return _any(node.field, _range(node))
    if isinstance(node, And):
        preds = [compile_log_query(c) for c in node.children]
        return lambda e: all(p(e) for p in preds)
    if isinstance(node, Or):
        preds = [compile_log_query(c) for c in node.children]
        return lambda e: any(p(e) for p in preds)
    if isinstance(node, Not):
        inner = compile_log_query(node.child)
        return lambda e: not inner(e)
    raise QueryError(f"unsupported query node {node!r}")  # pragma: no cover


def _values(e: Doc, path: str) -> list[Any]:
    if path in e:
        v = e[path]
        return v if isinstance(v, list) else [v]
    cur: list[Any] = [e]
    for part in path.split("."):
        nxt = []
        for c in cur:
            if isinstance(c, dict) and part in c:
                v = c[part]
                nxt.extend(v if isinstance(v, list) else [v])
        cur = nxt
    return cur


def _any(path: str, match: Callable[[Any], bool]) -> Pred:
    return lambda e: any(v is not None and match(v) for v in _values(e, path))


def _equals(text: str) -> Callable[[Any], bool]:
    def match(v: Any) -> bool:
        if isinstance(v, bool):
            return text == ("true" if v else "false")
        if isinstance(v, (int, float)):
            try:
                return float(text) == v
            except ValueError:
                return False
        return isinstance(v, str) and v == text

    return match


def _range(node: Range) -> Callable[[Any], bool]:
    lo, hi = node.lo, node.hi
    if node.field == "date":
        try:
            lo_k = None if lo is None else parse_instant(lo, round_up=not node.lo_incl)
            hi_k = None if hi is None else parse_instant(hi, round_up=node.hi_incl)
        except ValueError:
            raise QueryError(f"invalid date in range on field '{node.field}'") from None
        conv: Callable[[Any], Any] = lambda v: v if isinstance(v, str) else None  # noqa: E731
    elif _is_num(lo) and _is_num(hi):
        lo_k = None if lo is None else float(lo)
        hi_k = None if hi is None else float(hi)
        conv = lambda v: v if isinstance(v, (int, float)) and not isinstance(v, bool) else None  # noqa: E731
    else:
        lo_k, hi_k = lo, hi
        conv = lambda v: v if isinstance(v, str) else None  # noqa: E731

    def match(v: Any) -> bool:
        k = conv(v)
        if k is None:
            return False
        if lo_k is not None and (k < lo_k or (k == lo_k and not node.lo_incl)):
            return False
        return not (hi_k is not None and (k > hi_k or (k == hi_k and not node.hi_incl)))

    return match


def _is_num(s: str | None) -> bool:
    if s is None:
        return True
    try:
        float(s)
    except ValueError:
        return False
    return True


# -- stats -------------------------------------------------------------------------------------
def _day(q: dict[str, str], name: str) -> int | None:
    raw = q.get(name)
    if raw is None or raw == "":
        return None
    desc = _DESC[f"stats_{name}"]
    if not _YYYYMMDD.match(raw):
        raise query_error(f"'String does not match pattern ^\\d{{8}}$' on property {name} {desc}.")
    try:
        day = datetime.strptime(raw, "%Y%m%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise query_error(f"'Invalid date {raw}' on property {name} {desc}.") from None
    return calendar.timegm(day.timetuple()) * 1000


def stats_daily(sb: SandboxState, req: Request) -> Response:
    first, last = _day(req.query, "from"), _day(req.query, "to")
    if first is not None and last is not None and first > last:
        raise auth0_error(
            400, "'from' date cannot be greater than 'to' date.", "invalid_query_string"
        )
    return json_response(200, sb.logs.daily_rows(first, last))


def stats_active_users(sb: SandboxState, req: Request) -> Response:
    return json_response(200, sb.logs.active_users())


__all__ = [
    "compile_log_query",
    "get_log",
    "list_logs",
    "stats_active_users",
    "stats_daily",
]
