"""`logs`: the tenant's events, read by checkpoint in `log_id` order, so an event that
arrives late (an old `date`, a new `log_id`) is still read.

Auth0 keeps logs 1 to 30 days depending on the plan; the warehouse is where they last, so a
lost event is lost for good. A retention gap (events deleted before a run could read them) is
logged once and recorded in the STATE (`bookmarks.logs.retention_gaps`): log_reader.py. When
change capture is on, every event read also passes through it (changes/), so the log is read
once per run.
"""

from __future__ import annotations

import typing as t
from datetime import datetime, timedelta, timezone

from tap_auth0.client import Auth0Stream
from tap_auth0.log_reader import LogReader, arrival_floor, event_date
from tap_auth0.streams.log_types import type_name
from tap_auth0.values import iso_ms, parse_datetime

__all__ = ["LogsStream", "StatsActiveUsersStream", "StatsDailyStream", "arrival_floor"]
Record = dict[str, t.Any]


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
        self.reader = LogReader(self.http, self.logger)
        self.gap_found = False  # this run found a retention gap (change capture falls back)
        self._bookmark_state: dict[str, t.Any] | None = None

    # -- records ----------------------------------------------------------------------------
    def records(self, context: t.Mapping[str, t.Any] | None) -> t.Iterable[Record]:
        self.reader.requests = 0
        state = self._bookmark_state = self.get_context_state(context)
        # From the state only: the SDK's starting value falls back to `start_date`.
        start_date = None if state.get("replication_key_value") else self.settings.start_date
        self._not_before = start_date
        start = self.reader.start(state, start_date)
        self.gap_found = start.gap
        if start.gap:
            self.state_manager.is_flushed = False
        events: t.Iterable[Record] = ()
        if start.after is not None:
            events = self.reader.after(start.after)
        if start.first is not None:
            events = (start.first, *events)
        capture = self.capture if self.capture and self.capture.watching_logs else None
        if capture is None:
            yield from events
        else:
            for event in events:
                capture.observe(event)
                yield event
        self.logger.info("logs: %d API requests", self.reader.requests)

    def get_records(self, context: t.Mapping[str, t.Any] | None) -> t.Iterable[Record]:
        yield from super().get_records(context)
        if self.capture is not None:
            self.capture.logs_done(gap=self.gap_found, refused=self.name in self.skips.skipped)

    def post_process(
        self, row: Record, context: t.Mapping[str, t.Any] | None = None
    ) -> Record | None:
        if self._not_before is not None:
            when = event_date(row)
            if when is not None and when < self._not_before:
                return None  # first run with start_date: an event dated before it
        if not self.settings.logs_include_details:
            row.pop("details", None)
        scope = row.get("scope")
        if isinstance(scope, str):
            # One column type for warehouses: Auth0 sends a string or an array.
            row["scope"] = scope.split()
        row["type_name"] = type_name(row.get("type"))
        # The bookmark's date, to tell a retention gap on the next run (the state dict is
        # looked up once per read, not once per event).
        state = self._bookmark_state
        if state is None:
            state = self._bookmark_state = self.get_context_state(context)
        state["bookmark_date"] = row.get("date")
        return super().post_process(row, context)


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
