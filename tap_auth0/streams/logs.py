"""`logs`: the tenant's events, read by checkpoint in `log_id` order, so an event that
arrives late (an old `date`, a new `log_id`) is still read.

Auth0 keeps logs 1 to 30 days depending on the plan; the warehouse is where they last, so a
lost event is lost for good. Each run first asks for the oldest events Auth0 still holds
(one search): if the last event this tap read is older than all of them, Auth0 deleted the
events in between before this run could read them. That retention gap is logged as one
WARNING and recorded in the STATE (`bookmarks.logs.retention_gaps`), and the run goes on from
the oldest event still held.
"""

from __future__ import annotations

import typing as t
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

from tap_auth0.client import Auth0Stream
from tap_auth0.streams.log_types import type_name
from tap_auth0.values import iso_ms, parse_datetime

TAKE = 100
SEARCH_PAGE = 100
KEPT_GAPS = 20
Record = dict[str, t.Any]


def _date(record: Record) -> datetime | None:
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


class LogsStream(Auth0Stream):
    name = "logs"
    path = "/logs"
    primary_keys = ("log_id",)
    replication_key = "log_id"
    is_sorted = True  # checkpoint answers come in ascending log_id
    check_sorted = False
    scopes = ("read:logs",)
    activate_version = False
    STATE_MSG_FREQUENCY = 500

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._not_before: datetime | None = None
        self.requests = 0

    # -- requests ---------------------------------------------------------------------------
    def _search(self, params: dict[str, t.Any]) -> list[Record]:
        self.requests += 1
        body = self.http.get_json(
            "/logs", {"per_page": SEARCH_PAGE, "sort": "date:1", **params}, bucket="/logs"
        )
        return body if isinstance(body, list) else list(body.get("logs") or [])

    def _checkpoint(self, after: str) -> t.Iterator[Record]:
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

    # -- where to start ----------------------------------------------------------------------
    def _first_event(
        self, context: t.Mapping[str, t.Any] | None
    ) -> tuple[str | None, Record | None]:
        """(`from` for the checkpoint walk, an event to emit before it)."""
        state = self.get_context_state(context)
        # From the state only: the SDK's starting value falls back to `start_date`.
        bookmark = state.get("replication_key_value")
        oldest = self._search({})
        held = sorted(d for d in (_date(r) for r in oldest) if d is not None)
        if bookmark:
            seen = parse_datetime(state.get("bookmark_date"), "state bookmark_date of 'logs'")
            if seen is None or (held and seen >= held[0]):
                return str(bookmark), None  # no gap: on from the last event read
            self._record_gap(state, str(bookmark), seen, held[0] if held else None)
            if not held:
                return None, None  # Auth0 holds nothing: nothing to read
            return self._start_at(held[0], oldest)
        start_date = self.settings.start_date
        if start_date is not None:
            self._not_before = start_date
            page = self._search({"q": f"date:[{iso_ms(start_date)} TO *]"})
            return self._start_at(start_date, page) if page else (None, None)
        return self._start_at(held[0], oldest) if held else (None, None)

    def _start_at(self, when: datetime, page: list[Record]) -> tuple[str | None, Record | None]:
        """Start below every event dated at or after `when`. `page`: the oldest events
        dated at or after it; where their ids are not Auth0's usual ones, start at the
        earliest arrival among them instead."""
        first = _earliest_id(page)
        if first is None:
            return None, None
        if all(_is_auth0_id(r.get("log_id")) for r in page):
            return arrival_floor(when), None
        return first["log_id"], first

    def _record_gap(
        self, state: dict[str, t.Any], bookmark: str, seen: datetime, oldest: datetime | None
    ) -> None:
        held = iso_ms(oldest) if oldest else None
        self.logger.warning(
            "Retention gap in 'logs': Auth0 no longer holds the events after %s (log_id %s, "
            "the last one read) and before %s: they were deleted before this run could read "
            "them. Going on from the oldest event still held; the gap is recorded in the STATE "
            "under bookmarks.logs.retention_gaps",
            iso_ms(seen),
            bookmark,
            f"{held} (the oldest it still holds)" if held else "now (it holds no events)",
        )
        gap = {
            "detected_at": iso_ms(datetime.now(timezone.utc)),
            "lost_after": iso_ms(seen),
            "lost_after_log_id": bookmark,
            "resumed_at": held,
        }
        state["retention_gaps"] = [*state.get("retention_gaps", []), gap][-KEPT_GAPS:]
        self.state_manager.is_flushed = False

    # -- records ----------------------------------------------------------------------------
    def records(self, context: t.Mapping[str, t.Any] | None) -> t.Iterable[Record]:
        self.requests = 0
        self._not_before = None
        after, first = self._first_event(context)
        if first is not None:
            yield first
        if after is not None:
            yield from self._checkpoint(after)
        self.logger.info("logs: %d API requests", self.requests)

    def post_process(
        self, row: Record, context: t.Mapping[str, t.Any] | None = None
    ) -> Record | None:
        if self._not_before is not None:
            when = _date(row)
            if when is not None and when < self._not_before:
                return None  # first run with start_date: an event dated before it
        if not self.settings.logs_include_details:
            row.pop("details", None)
        scope = row.get("scope")
        if isinstance(scope, str):
            # One column type for warehouses: Auth0 sends a string or an array.
            row["scope"] = scope.split()
        row["type_name"] = type_name(row.get("type"))
        # The bookmark's date, to tell a retention gap on the next run.
        self.get_context_state(context)["bookmark_date"] = row.get("date")
        return row


class StatsDailyStream(Auth0Stream):
    """`GET /stats/daily`: a row per day with activity (days without any have none). Today's
    row keeps changing, so each run re-reads the last `stats_lookback_days` days."""

    name = "stats_daily"
    path = "/stats/daily"
    primary_keys = ("date",)
    replication_key = "date"
    is_sorted = True
    check_sorted = False
    scopes = ("read:stats",)
    activate_version = False

    def records(self, context: t.Mapping[str, t.Any] | None) -> t.Iterable[Record]:
        bookmark = self.get_context_state(context).get("replication_key_value")
        start: datetime | None = None
        if bookmark:
            seen = parse_datetime(bookmark, "state bookmark of 'stats_daily'")
            assert seen is not None
            start = seen - timedelta(days=self.settings.stats_lookback_days)
        elif self.settings.start_date is not None:
            start = self.settings.start_date
        params = {"to": datetime.now(timezone.utc).strftime("%Y%m%d")}
        if start is not None:
            params["from"] = start.strftime("%Y%m%d")
        rows = self.http.get_json(self.path, params, bucket=self.path)
        if not isinstance(rows, list):
            rows = []
        return sorted((r for r in rows if isinstance(r, dict)), key=lambda r: str(r.get("date")))


class StatsActiveUsersStream(Auth0Stream):
    """`GET /stats/active-users` (users who logged in within 30 days): a bare number, one
    row per run day (a later run the same day replaces it)."""

    name = "stats_active_users"
    path = "/stats/active-users"
    primary_keys = ("date",)
    scopes = ("read:stats",)
    activate_version = False  # earlier days' rows stay

    def records(self, context: t.Mapping[str, t.Any] | None) -> t.Iterable[Record]:
        count = self.http.get_json(self.path, {}, bucket=self.path)
        now = datetime.now(timezone.utc)
        yield {"date": now.strftime("%Y-%m-%d"), "active_users": count, "extracted_at": iso_ms(now)}
