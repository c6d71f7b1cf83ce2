"""Change capture: an incremental run re-reads only what the tenant log says changed.

A run is either
- a **full pass**, reading every full table whole and ending each with ACTIVATE_VERSION, as
  every run did before: the first run, a `--full-refresh` (no STATE), a run past
  `full_pass_interval`, and the fallbacks (no `read:logs`, a retention gap in the log,
  `change_capture: false`); or
- a **capture run**: the log since the last run is read once (through the `logs` stream
  when it is selected, else from a checkpoint of its own in the STATE), its events nominate
  what changed (nominate.py), and only that is read: users, roles, organizations and
  connections by id with their children, and small tables named by a change, whole.

What the log names but is not yet applied is kept in the STATE (`pending`) until the run
ends, so a run that fails after reading the log loses nothing: the next one applies it.
Deletions are never taken on the log's word: a by-id read answering 404, or a re-read parent
no longer listing a child, confirms each before its tombstone (the key and
`_sdc_deleted_at`) is written.
"""

from __future__ import annotations

import logging
import typing as t
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from tap_auth0.changes.nominate import Key, Nominations, observe
from tap_auth0.log_reader import LogReader, arrival_floor
from tap_auth0.values import iso_ms, parse_datetime

if t.TYPE_CHECKING:
    from tap_auth0.http_client import Auth0HTTP
    from tap_auth0.settings import Settings

STATE_KEY = "change_capture"  # under `bookmarks`, beside the streams'
Record = dict[str, t.Any]


@dataclass(frozen=True)
class ReadPlan:
    """How a full-table stream is read in this run."""

    whole: bool  # list the table (else: the `ids` by id, or nothing)
    ids: frozenset[str] = frozenset()
    children_of: frozenset[str] | None = None  # parents whose children are read; None: all

    @property
    def nothing(self) -> bool:
        return not self.whole and not self.ids

    @property
    def complete(self) -> bool:
        """A whole listing: ACTIVATE_VERSION may follow."""
        return self.whole

    @property
    def children_complete(self) -> bool:
        return self.whole and self.children_of is None

    def wants_children(self, parent_id: str) -> bool:
        return self.children_of is None or parent_id in self.children_of


WHOLE = ReadPlan(True)
NOTHING = ReadPlan(False)
# Streams read by id when nominated (Get a Role, Get an Organization, Get a Connection); the
# ids are in the Nominations field of the stream's name.
BY_ID = frozenset({"roles", "organizations", "connections"})


def _to_state(n: Nominations) -> dict[str, t.Any]:
    return {
        "users": sorted(n.users),
        "users_deleted": sorted(n.users_deleted),
        "roles": sorted(n.roles),
        "organizations": sorted(n.organizations),
        "connections": sorted(n.connections),
        "tables": sorted(n.tables),
        "removed": {
            stream: sorted([parent, *key] for key, parent in claims.items())
            for stream, claims in n.removed.items()
            if claims
        },
    }


def _from_state(saved: t.Any) -> Nominations:
    n = Nominations()
    if not isinstance(saved, dict):
        return n
    for name in ("users", "users_deleted", "roles", "organizations", "connections", "tables"):
        values = saved.get(name)
        if isinstance(values, list):
            getattr(n, name).update(str(v) for v in values)
    removed = saved.get("removed")
    for stream, claims in removed.items() if isinstance(removed, dict) else ():
        for claim in claims if isinstance(claims, list) else ():
            if isinstance(claim, list) and len(claim) >= 2:
                n.remove(stream, *(str(c) for c in claim))
    return n


class ChangeCapture:
    """The run's mode, the nominations and the deletions confirmed (one per run)."""

    def __init__(self, settings: Settings, http: Auth0HTTP, logger: logging.Logger) -> None:
        self.settings = settings
        self.http = http
        self.logger = logger
        self.active = False  # a capture run: streams read what `nominations` names
        self.nominations = Nominations()
        self.reason = "not started"
        self.started = datetime.now(timezone.utc)
        self.deleted_at = iso_ms(self.started)
        self.tombstones: dict[str, int] = {}
        self.requests = 0  # log requests of its own (not through the `logs` stream)
        self._state: dict[str, t.Any] | None = None
        self._full_pass = False
        self._via_logs = False
        self._applied_through: str | None = None
        self._last_seen: Record | None = None

    # -- deciding the run -------------------------------------------------------------------
    def begin(
        self,
        bookmarks: dict[str, t.Any],
        *,
        scopes: frozenset[str] | None,
        logs_selected: bool,
        fresh: bool,
    ) -> None:
        """Decide this run's mode. `fresh`: no full table was ever read completely."""
        s = self.settings
        if not s.change_capture:
            self._full("change_capture is off", level=logging.DEBUG)
            return
        if scopes is not None and "read:logs" not in scopes:
            self.fall_back("the token lacks read:logs")
            return
        state = bookmarks.setdefault(STATE_KEY, {})
        self._state = state
        self._via_logs = logs_selected
        last = _when(state.get("last_full_pass"))
        own = state.get("replication_key_value")
        if fresh or last is None or not (own or logs_selected):
            self._full("no change-capture checkpoint yet (first run or --full-refresh)")
            return
        interval = s.full_pass_interval
        if interval and self.started - last >= timedelta(hours=interval):
            self._full(
                f"the last full pass was at {iso_ms(last)}, over full_pass_interval "
                f"({interval} h) ago"
            )
            return
        self.active = True
        self.nominations = _from_state(state.get("pending"))
        self.reason = f"changes since the last run (last full pass {iso_ms(last)})"
        if not logs_selected:
            self._read_own_checkpoint(state)
        elif not (bookmarks.get("logs") or {}).get("replication_key_value") and own:
            # `logs` newly selected reads all the log holds: what came before the
            # checkpoint was applied already.
            self._applied_through = str(own)

    def fall_back(self, why: str) -> None:
        """A full pass after all (the log could not be read), said once."""
        self._full(why, level=logging.WARNING)

    def _full(self, why: str, *, level: int = logging.INFO) -> None:
        self.active = False
        self._full_pass = True
        self.reason = why
        if self._state is not None:
            self._state.pop("pending", None)
        self.logger.log(level, "Change capture: a full pass this run: %s", why)

    def _read_own_checkpoint(self, state: dict[str, t.Any]) -> None:
        reader = LogReader(self.http, self.logger, name=f"{STATE_KEY}")
        start = reader.start(state, empty_is_gap=False)
        if start.gap:
            self.fall_back("a retention gap in the log (see the warning above)")
            self.requests += reader.requests
            return
        last: Record | None = None
        events = reader.after(start.after) if start.after is not None else iter(())
        for event in [start.first] if start.first else []:
            self.observe(event)
        for event in events:
            self.observe(event)
            last = event
        self.requests += reader.requests
        if last is not None:
            state["replication_key_value"] = last.get("log_id")
            state["bookmark_date"] = last.get("date")
        self._save_pending()

    def observe(self, event: Record) -> None:
        """One log event read (by the `logs` stream, or here)."""
        if not self.active:
            return
        log_id = event.get("log_id")
        if self._applied_through and _id_order(log_id) <= _id_order(self._applied_through):
            return
        observe(event, self.nominations)
        self._last_seen = event

    @property
    def watching_logs(self) -> bool:
        """The `logs` stream reads the log for this capture run."""
        return self.active and self._via_logs

    def logs_done(self, *, gap: bool, refused: bool) -> None:
        """The `logs` stream (read first in a capture run) finished reading."""
        if not self.watching_logs:
            return
        if refused:
            self.fall_back("the token cannot read the log (logs was refused)")
        elif gap:
            self.fall_back("a retention gap in the log (see the warning above)")
        else:
            self._save_pending()
            self.announce()

    def _save_pending(self) -> None:
        if self._state is not None and self.active:
            self._state["pending"] = _to_state(self.nominations)

    def announce(self) -> None:
        if self.active:
            self.logger.info("Change capture: %s; %s", self.reason, self.nominations.summary())
            for why, count in sorted(self.nominations.unresolved.items()):
                self.logger.info(
                    "Change capture: %d change(s) the log cannot scope, left to the next "
                    "full pass: %s",
                    count,
                    why,
                )

    def finish(self) -> None:
        """The run completed: what was pending is applied; a full pass is recorded."""
        if self.active:
            confirmed = ", ".join(f"{k} {v}" for k, v in sorted(self.tombstones.items()))
            self.logger.info(
                "Change capture: %s deletion(s) confirmed and written as tombstones%s",
                sum(self.tombstones.values()),
                f" ({confirmed})" if confirmed else "",
            )
        state = self._state
        if state is None:
            return
        state.pop("pending", None)
        if self._full_pass:
            state["last_full_pass"] = iso_ms(self.started)
            # Everything was read whole: the log before this run's start is not needed.
            state["replication_key_value"] = arrival_floor(self.started)
            state["bookmark_date"] = iso_ms(self.started)
        elif self._via_logs and self._last_seen is not None:
            # Kept current, for a run that no longer selects `logs`.
            state["replication_key_value"] = self._last_seen.get("log_id")
            state["bookmark_date"] = self._last_seen.get("date")

    # -- what streams read ------------------------------------------------------------------
    def plan(self, stream: str, children: t.Collection[str], *, fresh: bool) -> ReadPlan:
        """How `stream` (a full table) is read; `fresh`: it or a child has never been read
        completely (so it is read whole, as on a full pass)."""
        if not self.active or fresh:
            return WHOLE
        n = self.nominations
        if stream in n.tables or n.tables.intersection(children):
            whole_children = bool(n.tables.intersection(children))
            ids = self._ids(stream)
            return ReadPlan(True, children_of=None if whole_children else frozenset(ids))
        ids = self._ids(stream)
        return ReadPlan(False, frozenset(ids)) if ids else NOTHING

    def _ids(self, stream: str) -> set[str]:
        return set(getattr(self.nominations, stream)) if stream in BY_ID else set()

    def users_to_read(self) -> list[str]:
        """Users named by the log, to read by id (Get a User) after the listing."""
        if not self.active:
            return []
        n = self.nominations
        return sorted(n.users | n.users_deleted)

    def claims(self, stream: str, parent_id: str) -> list[Key]:
        """Keys of `stream` the log says left `parent_id`; each is confirmed by the re-read
        that is about to be compared with it, so it is handed out once."""
        claims = self.nominations.removed.get(stream)
        if not claims:
            return []
        found = [key for key, parent in claims.items() if parent == parent_id]
        for key in found:
            del claims[key]
        return found

    def tombstone(self, stream: str, key_fields: t.Sequence[str], key: t.Sequence[str]) -> Record:
        """The Singer tombstone for one confirmed deletion."""
        self.tombstones[stream] = self.tombstones.get(stream, 0) + 1
        return {**dict(zip(key_fields, key, strict=True)), "_sdc_deleted_at": self.deleted_at}


def _id_order(log_id: t.Any) -> tuple[int, str]:
    """Log ids compare as numbers of equal length (Auth0's are 56 digits)."""
    text = str(log_id or "")
    return (len(text), text)


def _when(value: t.Any) -> datetime | None:
    try:
        return parse_datetime(value, "change_capture.last_full_pass")
    except Exception:  # noqa: BLE001 - an unreadable mark means: do a full pass
        return None
