"""`users` (List or Search Users) and its child `user_detail` (Get a User)."""

from __future__ import annotations

import collections
import itertools
import time
import typing as t
from datetime import datetime, timedelta, timezone

from tap_auth0.client import Auth0Stream
from tap_auth0.errors import Auth0APIError, ConfigError
from tap_auth0.progress import Progress
from tap_auth0.streams.users.export import ExportJob
from tap_auth0.streams.users.keyset import AFTER_ID, BEFORE, WHOLE
from tap_auth0.streams.users.query import combine, connection_clause, projection
from tap_auth0.streams.users.scan import KeysetScan, Listed
from tap_auth0.values import iso_ms, parse_datetime

# Fields the tap itself needs, whatever projection the user asked for.
USERS_REQUIRED_FIELDS = ("user_id", "updated_at", "created_at")
IDP_TOKEN_KEYS = ("access_token", "refresh_token", "access_token_secret")
# In the STATE beside the bookmark, what an interrupted run had read above it:
# - `listed_above`: ranges (low, high] read whole ([v, v]: every user at v, a tie group the
#   floor had just passed);
# - `window_positions`: [low, position(, user_id)] for each window it was still reading:
#   (low, position) read, and at `position` the users up to `user_id` (a tie group read by
#   user_id). A resumed run continues each window from its position.
# A STATE without `window_positions` (written before they were kept) resumes as it did.
LISTED_ABOVE = "listed_above"
WINDOW_POSITIONS = "window_positions"
Floor = tuple[int, str, list[Listed]]


def drop_idp_tokens(record: dict[str, t.Any]) -> dict[str, t.Any]:
    """IdP tokens are credentials for the user's social/enterprise account: keep them out
    of warehouses unless asked (`include_idp_tokens`)."""
    identities = record.get("identities")
    if isinstance(identities, list):
        for identity in identities:
            # Most identities hold no token: test before popping (this runs per user).
            if isinstance(identity, dict) and not identity.keys().isdisjoint(IDP_TOKEN_KEYS):
                for key in IDP_TOKEN_KEYS:
                    identity.pop(key, None)
    return record


class UsersStream(Auth0Stream):
    """Every user, by keyset windows over the sort field listed concurrently (scan.py).

    Pages arrive from several windows at once, so the SDK's sorted-stream bookmark (each
    record's value) would be wrong: the stream sets the bookmark itself, to the scan's floor
    once every record below it has passed through the SDK (after `user_detail`, with
    `hold_parents`).
    """

    name = "users"
    path = "/users"
    primary_keys = ("user_id",)
    # Each window is sorted, their interleaving is not, and the look-back re-reads users
    # below the bookmark: the stream moves its bookmark itself (`released`), and "sorted"
    # only keeps the SDK from progress markers and from checking the order.
    is_sorted = True
    check_sorted = False
    STATE_MSG_FREQUENCY = 1000
    schema_file = "user"
    scopes = ("read:users",)
    child_context: t.ClassVar[dict[str, str]] = {"user_id": "user_id"}
    # A user reaches the SDK (and so the bookmark) only after its detail was emitted.
    hold_parents = True
    # Search runs are incremental; a complete export activates its own version.
    activate_version = False
    tombstones = True

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        if self.settings.sort_field != "updated_at":
            self.replication_key = None  # created_at order: a full refresh, stably ordered
        else:
            self.replication_key = "updated_at"
        self.window_end: str | None = None
        self._export_version: int | None = None
        self._export_rows = 0
        self._full_pass = False
        # (records handed on, floor, ranges read above it): the bookmark may move to
        # `floor` once that many records have passed through the SDK.
        self._floors: collections.deque[Floor] = collections.deque()
        self._listed: set[str] = set()  # user_ids this run listed (change capture)

    def post_process(
        self, row: dict[str, t.Any], context: t.Mapping[str, t.Any] | None = None
    ) -> dict[str, t.Any] | None:
        if not self.settings.include_idp_tokens:
            row = drop_idp_tokens(row)
        return super().post_process(row, context)

    # -- query building -------------------------------------------------------------------
    def base_query(self) -> str | None:
        s = self.settings
        return (
            combine(
                s.search_query,
                connection_clause(s.connection) if s.connection else None,
            )
            or None
        )

    def window_start(self, context: t.Mapping[str, t.Any] | None) -> str | None:
        s = self.settings
        if self.replication_key:
            bookmark = self.get_starting_replication_key_value(context)
            if bookmark:
                value = parse_datetime(bookmark, "state bookmark of 'users'")
                assert value is not None
                return iso_ms(value - timedelta(seconds=s.lookback_seconds))
        if s.start_date:
            return iso_ms(s.start_date)
        return None

    def _fetch(
        self, q: str | None, sort: str, include_totals: bool, per_page: int | None = None
    ) -> tuple[list[dict[str, t.Any]], int | None]:
        s = self.settings
        params: dict[str, t.Any] = {
            "sort": sort,
            "page": 0,
            "per_page": per_page or s.page_size,
            "search_engine": "v3",
            "include_totals": "true" if include_totals else "false",
        }
        if q:
            params["q"] = q
        params.update(projection(s.fields, s.include_fields, USERS_REQUIRED_FIELDS))
        try:
            body = self.http.get_json("/users", params)
        except Auth0APIError as exc:
            if exc.status == 400 and s.search_query:
                raise ConfigError(
                    f"Setting 'search_query' was rejected by Auth0: {exc} (query sent: {q})"
                ) from None
            raise
        if isinstance(body, dict):
            users = body.get("users")
            total = body.get("total")
            if not isinstance(users, list):
                raise Auth0APIError("GET /api/v2/users: object answer without a 'users' list")
            return users, total if isinstance(total, int) else None
        if isinstance(body, list):
            return body, None
        raise Auth0APIError(f"GET /api/v2/users answered {type(body).__name__}, not a list")

    # -- records ------------------------------------------------------------------------
    def list_windows(self) -> int:
        """Keyset windows allowed at once: `users_list_windows`, bounded by
        `max_concurrency` (0: as many as `max_concurrency`)."""
        s = self.settings
        return min(s.users_list_windows or s.max_concurrency, s.max_concurrency)

    def iter_users(self, context: t.Mapping[str, t.Any] | None) -> t.Iterator[dict[str, t.Any]]:
        s = self.settings
        start = self.window_start(context)
        now = datetime.now(timezone.utc)
        end = iso_ms(now)
        skip = self.listed_above(context) if start else []
        scan = KeysetScan(
            self._fetch,
            sort_field=s.sort_field,
            page_size=s.page_size,
            low=start,
            high=end,
            base_query=self.base_query(),
            include_totals=s.include_totals,
            windows=self.list_windows(),
            min_window=s.users_list_min_window,
            skip=skip,
            settle=iso_ms(now - timedelta(seconds=s.lookback_seconds)),
            adaptive=s.users_list_windows == 0,
            sustained_rate=lambda: self.http.sustained_rate("/users"),
        )
        self.logger.info(
            "Listing users with %s from %s to %s%s, in up to %d concurrent window(s)%s",
            s.sort_field,
            start or "the beginning",
            end,
            f" matching {scan.base_query}" if scan.base_query else "",
            scan.max_windows,
            f"; {len(scan.skip)} range(s) an interrupted run had read are skipped"
            if scan.skip
            else "",
        )
        handed = 0
        listed = self._listed
        watch = self.capture is not None and self.capture.active
        floors = self._floors
        progress = Progress(self.logger, "users", "users", total=lambda: scan.stats.total)
        self._scan_total = lambda: scan.stats.total
        for users, floor in scan.pages():
            if watch:
                listed.update(str(u.get("user_id")) for u in users)
            yield from users
            handed += len(users)
            if floor is not None:
                floors.append((handed, floor, scan.done_above()))
            progress.update(handed)
        self._log_progress(scan, final=True)
        self.window_end = end

    def iter_named(self) -> t.Iterator[dict[str, t.Any]]:
        """Change capture: the users the log names (roles, MFA factors, sessions, blocks
        changed, or deleted) that the listing did not bring, read by Get a User, which is
        never index-lagged. A 404 confirms a deletion: tombstones in `users` and
        `user_detail`."""
        if self.capture is None:
            return
        s = self.settings
        params = projection(s.fields, s.include_fields, USERS_REQUIRED_FIELDS)
        detail = self.detail_stream
        for user_id in self.capture.users_to_read():
            if user_id in self._listed:
                continue
            user = self.http.get_user(user_id, params)
            if user is not None:
                yield user
                continue
            self.write_tombstone((user_id,))
            if detail is not None:
                detail.write_tombstone((user_id,))

    def released(self, source: t.Iterable[dict[str, t.Any]]) -> t.Iterable[dict[str, t.Any]]:
        """Move the bookmark to each floor once its records have passed through the SDK
        (which writes and counts a record before asking for the next)."""
        if not (self.replication_key and self.selected and self.bookmarks_frozen):
            return source
        return self._moving_bookmark(source)

    def _moving_bookmark(
        self, source: t.Iterable[dict[str, t.Any]]
    ) -> t.Iterator[dict[str, t.Any]]:
        floors = self._floors
        for passed, record in enumerate(source, 1):
            yield record
            if floors and floors[0][0] <= passed:
                mark = floors.popleft()
                while floors and floors[0][0] <= passed:
                    mark = floors.popleft()
                self._advance_bookmark(None, mark[1], listed_above=mark[2])

    def listed_above(self, context: t.Mapping[str, t.Any] | None) -> list[Listed]:
        """What an interrupted run had read above the bookmark (from the STATE)."""
        if not self.replication_key:
            return []
        state = self.get_context_state(context)
        pieces = [
            Listed(str(r[0]), str(r[1]))
            for r in state.get(LISTED_ABOVE) or []
            if isinstance(r, list | tuple) and len(r) == 2 and str(r[0]) <= str(r[1])
        ]
        for r in state.get(WINDOW_POSITIONS) or []:
            if isinstance(r, list | tuple) and len(r) in (2, 3) and all(r):
                upto = AFTER_ID if len(r) == 3 else BEFORE
                pieces.append(Listed(str(r[0]), str(r[1]), upto, str(r[2]) if r[2:] else ""))
        return pieces

    def _advance_bookmark(
        self,
        context: t.Mapping[str, t.Any] | None,
        value: str,
        *,
        listed_above: list[Listed] | None = None,
    ) -> None:
        """Only forward: an incremental run re-reads the look-back below the bookmark.
        After a complete scan the value is the run's `end`: every searchable change up
        to it was seen, so the next run re-reads only the look-back before it, not the
        look-back before the newest user (which may be months old)."""
        if not self.replication_key or not self.selected:
            return
        state = self.get_context_state(context)
        current = state.get("replication_key_value")
        if current is None or str(current) <= value:
            state["replication_key"] = self.replication_key
            state["replication_key_value"] = value
            pieces = listed_above or []
            whole = [[p.low, p.high] for p in pieces if p.upto == WHOLE]
            partly = [
                [p.low, p.high, p.after] if p.upto == AFTER_ID else [p.low, p.high]
                for p in pieces
                if p.upto != WHOLE
            ]
            for key, entries in ((LISTED_ABOVE, whole), (WINDOW_POSITIONS, partly)):
                if entries:
                    state[key] = entries
                else:
                    state.pop(key, None)
            self.state_manager.is_flushed = False

    def _log_progress(self, scan: KeysetScan, *, final: bool = False) -> None:
        st = scan.stats
        of = f" of {st.total:,}" if st.total is not None else ""
        self.logger.info(
            "%s %s%s users in %d requests (%d for tie groups, %d window(s))",
            "Listed" if final else "Listing:",
            f"{st.emitted:,}",
            of,
            st.requests,
            st.tie_requests,
            st.windows,
        )
        if final and st.total is not None and st.emitted < st.total:
            self.logger.warning(
                "Auth0 counted %d matching users at the start but %d were listed; "
                "users deleted during the run explain a difference",
                st.total,
                st.emitted,
            )

    # -- extraction mode ------------------------------------------------------------------
    def resolve_mode(self, context: t.Mapping[str, t.Any] | None) -> tuple[str, str]:
        """`auto`: an export job for a first full sync of a large tenant (a few requests
        instead of one per 100 users); search for incremental runs, small tenants and
        settings an export cannot honour."""
        s = self.settings
        if s.users_extraction != "auto":
            return s.users_extraction, f"users_extraction={s.users_extraction}"
        blockers = s.export_blockers
        if blockers:
            return "search", f"{', '.join(blockers)} cannot be honoured by an export"
        if self.replication_key and self.get_starting_replication_key_value(context):
            return "search", "incremental run (a bookmark exists)"
        _, total = self._fetch(self.base_query(), "updated_at:1", True, per_page=1)
        if total is None:
            return "search", "the tenant did not report a user count"
        if total >= s.auto_export_threshold:
            return "export", f"first sync of {total:,} users >= {s.auto_export_threshold:,}"
        return "search", f"first sync of {total:,} users < {s.auto_export_threshold:,}"

    def iter_export(self) -> t.Iterator[dict[str, t.Any]]:
        s = self.settings
        # Changes after this instant may be missing from the file: the next (search) run
        # starts here, minus the look-back.
        end = iso_ms(datetime.now(timezone.utc))
        job = ExportJob(
            self.http,
            logger=self.logger,
            timeout_seconds=s.export_timeout_seconds,
            connection=s.connection,
        )
        progress = Progress(self.logger, "users export", "users", total=self.expected_total)
        for record in job.records():
            progress.advance()
            yield record
        progress.finish()
        self._export_rows = job.lines
        self.logger.info(
            "Exported %s users in %d API requests and %d download(s)",
            f"{job.lines:,}",
            job.requests,
            job.downloads,
        )
        self.window_end = end

    def records(self, context: t.Mapping[str, t.Any] | None) -> t.Iterable[dict]:
        self.window_end = None
        self._export_version = None
        self._full_pass = False
        self._floors.clear()
        self._listed.clear()
        if self.settings.user_ids:
            # `user_ids` asks for exactly those users: no listing of the tenant at all.
            self.logger.info("users: not listed, 'user_ids' is set (see user_detail)")
            return iter(())
        mode, reason = self.resolve_mode(context)
        self.logger.info("Extracting users by %s (%s)", mode, reason)
        if mode != "export":
            self._full_pass = self.window_start(context) is None
            # The listing's bookmark moves by floors (see `released`), not per record.
            self.bookmarks_frozen = True
            return itertools.chain(self.iter_users(context), self.iter_named())
        self._full_pass = True
        # Every record of a full export carries one table version; ACTIVATE_VERSION at the
        # end lets targets drop the users deleted in Auth0. An export file is not ordered
        # by updated_at: its records must not move the bookmark; a complete export sets it
        # once, at the end.
        self._export_version = int(time.time() * 1000)
        self.table_version = self._export_version
        detail = self.detail_stream
        if detail is not None:
            detail.table_version = self._export_version
        self.bookmarks_frozen = True
        return self.iter_export()

    def after_records(self, context: t.Mapping[str, t.Any] | None) -> None:
        self.bookmarks_frozen = False
        if self.window_end:
            self._advance_bookmark(context, self.window_end)
        version = self._export_version
        if version is not None and self.window_end:
            if self.selected:
                self.activate_table(version, self._export_rows)
            detail = self.detail_stream
            if detail is not None:
                detail.activate_table(version, detail.table_rows)

    @property
    def children_complete(self) -> bool:
        """Per-user streams are whole only after a pass over every user (first run,
        `--full-refresh`, an export); an incremental run reads them for changed users."""
        return self._full_pass

    @property
    def fanout_window(self) -> int:
        # Room for a whole page plus the requests in flight, so the workers keep busy
        # while the next listing request is on its way.
        s = self.settings
        return max(4 * s.max_concurrency, s.page_size + s.max_concurrency)

    _scan_total: t.Callable[[], int | None] | None = None

    def expected_total(self) -> int | None:
        """Users this run lists, once its windows counted them; else the tenant's count."""
        total = self._scan_total() if self._scan_total else None
        return total if total is not None else super().expected_total()

    @property
    def detail_stream(self) -> Auth0Stream | None:
        """The selected `user_detail` child (see user_detail.py), if any."""
        for child in self.child_streams:
            if child.name == "user_detail" and child.selected:
                return t.cast(Auth0Stream, child)
        return None
