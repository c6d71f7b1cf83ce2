"""Reading the tenant log by checkpoint, with retention gaps named: shared by the `logs`
stream and by change capture, which keeps its own checkpoint when `logs` is not selected.

Auth0 keeps logs 1 to 30 days depending on the plan. Each read first asks for the oldest
events Auth0 still holds (one search): if the last event read before is older than all of
them, Auth0 deleted the events in between before they could be read. That retention gap is
logged as one WARNING and recorded in the checkpoint's STATE (`retention_gaps`), and the
read goes on from the oldest event still held.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

from tap_auth0.values import iso_ms, parse_datetime

if t.TYPE_CHECKING:
    import logging

    from tap_auth0.http_client import Auth0HTTP

TAKE = 100
SEARCH_PAGE = 100
KEPT_GAPS = 20
Record = dict[str, t.Any]


def event_date(record: Record) -> datetime | None:
    try:
        return parse_datetime(record.get("date"), "log date")
    except Exception:  # noqa: BLE001 - a malformed date must not stop the read
        return None


def _earliest_id(page: list[Record]) -> Record | None:
    """The smallest `log_id` of a page (a fallback start when ids cannot be built)."""
    with_ids = [r for r in page if isinstance(r.get("log_id"), str)]
    return min(with_ids, key=lambda r: (len(r["log_id"]), r["log_id"])) if with_ids else None


def arrival_floor(when: datetime) -> str:
    """A `from` below every event that arrived at or after `when`.

    Auth0's log ids are "900", the arrival time (yyyymmddhhmmss and microseconds), then a
    sequence: 56 digits in arrival order. An event arrives after it happens, so every event
    dated at or after `when` has an id above this one: starting here misses none, whatever
    the gap between `date` order and arrival order.
    """
    when = when.astimezone(timezone.utc)
    head = f"900{when:%Y%m%d%H%M%S}{when.microsecond:06d}"
    return head.ljust(56, "0")


def _is_auth0_id(value: t.Any) -> bool:
    return isinstance(value, str) and len(value) == 56 and value.isdigit() and value[:3] == "900"


@dataclass
class Start:
    """Where a read begins: `after` for the checkpoint walk, an event to yield before it,
    and whether a retention gap was found on the way."""

    after: str | None
    first: Record | None = None
    gap: bool = False


class LogReader:
    """GET /logs by search (to find where to start) and by checkpoint (to read)."""

    def __init__(self, http: Auth0HTTP, logger: logging.Logger, name: str = "logs") -> None:
        self.http = http
        self.logger = logger
        self.name = name
        self.requests = 0

    def search(self, params: dict[str, t.Any]) -> list[Record]:
        self.requests += 1
        body = self.http.get_json(
            "/logs", {"per_page": SEARCH_PAGE, "sort": "date:1", **params}, bucket="/logs"
        )
        return body if isinstance(body, list) else list(body.get("logs") or [])

    def after(self, after: str) -> t.Iterator[Record]:
        """Every event with a `log_id` after `after`, following `Link: rel="next"`."""
        params: dict[str, t.Any] = {"from": after, "take": TAKE}
        while True:
            self.requests += 1
            body, links = self.http.get_page("/logs", params, bucket="/logs")
            page = body if isinstance(body, list) else []
            if not page:
                return  # `[]` with a next link back to the same URL: nothing newer yet
            yield from page
            if len(page) < TAKE:
                return
            following = links.get("next", {}).get("url")
            cursor = (
                parse_qs(urlsplit(following).query).get("from", [None])[0] if following else None
            )
            params = {"from": cursor or page[-1]["log_id"], "take": TAKE}

    def start(
        self,
        state: dict[str, t.Any],
        start_date: datetime | None = None,
        *,
        empty_is_gap: bool = True,
    ) -> Start:
        """Where to go on from `state` (its `replication_key_value` and `bookmark_date`);
        without a bookmark, from `start_date`, else from the oldest event held.
        `empty_is_gap`: a log holding no event at all lost what followed the bookmark (the
        bookmark was an event); false for a checkpoint set at an instant, not at an event."""
        bookmark = state.get("replication_key_value")
        oldest = self.search({})
        held = sorted(d for d in (event_date(r) for r in oldest) if d is not None)
        if bookmark:
            seen = parse_datetime(
                state.get("bookmark_date"), f"state bookmark_date of '{self.name}'"
            )
            if seen is None or (held and seen >= held[0]) or (not held and not empty_is_gap):
                return Start(str(bookmark))  # no gap: on from the last event read
            self._record_gap(state, str(bookmark), seen, held[0] if held else None)
            if not held:
                return Start(None, gap=True)  # Auth0 holds nothing: nothing to read
            return self._start_at(held[0], oldest, gap=True)
        if start_date is not None:
            page = self.search({"q": f"date:[{iso_ms(start_date)} TO *]"})
            return self._start_at(start_date, page) if page else Start(None)
        return self._start_at(held[0], oldest) if held else Start(None)

    def _start_at(self, when: datetime, page: list[Record], *, gap: bool = False) -> Start:
        """Start below every event dated at or after `when`. `page`: the oldest events
        dated at or after it; where their ids are not Auth0's usual ones, start at the
        earliest arrival among them instead."""
        first = _earliest_id(page)
        if first is None:
            return Start(None, gap=gap)
        if all(_is_auth0_id(r.get("log_id")) for r in page):
            return Start(arrival_floor(when), gap=gap)
        return Start(first["log_id"], first, gap=gap)

    def _record_gap(
        self, state: dict[str, t.Any], bookmark: str, seen: datetime, oldest: datetime | None
    ) -> None:
        held = iso_ms(oldest) if oldest else None
        self.logger.warning(
            "Retention gap in '%s': Auth0 no longer holds the events after %s (log_id %s, "
            "the last one read) and before %s: they were deleted before this run could read "
            "them. Going on from the oldest event still held; the gap is recorded in the STATE "
            "under bookmarks.%s.retention_gaps",
            self.name,
            iso_ms(seen),
            bookmark,
            f"{held} (the oldest it still holds)" if held else "now (it holds no events)",
            self.name,
        )
        gap = {
            "detected_at": iso_ms(datetime.now(timezone.utc)),
            "lost_after": iso_ms(seen),
            "lost_after_log_id": bookmark,
            "resumed_at": held,
        }
        state["retention_gaps"] = [*state.get("retention_gaps", []), gap][-KEPT_GAPS:]
