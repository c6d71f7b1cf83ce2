"""The base stream every Auth0 stream is declared on (client.py, as in SDK taps).

A simple stream is data: its name, path, envelope key, keys, paginator and scopes; the
schema is `schemas/<name>.json`. A child stream names its `parent` and gets the parent's
context keys (e.g. `role_id`) in its path and in every record; the parent fetches all its
selected children concurrently (fanout.py) through the one shared HTTP client. A full-table
stream's records carry one table version, and ACTIVATE_VERSION follows a complete read, so
loaders that honour it drop what was deleted in Auth0 (unless the read shrank past
`max_table_shrink`: shrink_guard.py). A stream refused for a missing scope
is skipped with one warning; the other streams go on (see `ScopeSkips`).
"""

from __future__ import annotations

import threading
import time
import typing as t
from urllib.parse import quote

from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_auth0.changes.capture import WHOLE, ReadPlan
from tap_auth0.changes.nominate import TABLE
from tap_auth0.errors import ScopeError, TapAuth0Error
from tap_auth0.fanout import FanOut, Lane
from tap_auth0.pagination import OffsetPaginator, Paginator
from tap_auth0.progress import Progress
from tap_auth0.schemas import load_schema
from tap_auth0.sdk_hooks import StreamHooks
from tap_auth0.shrink_guard import may_activate, previous_rows
from tap_auth0.tenant import COLUMN as TENANT
from tap_auth0.tenant import COLUMN_SCHEMA as TENANT_SCHEMA
from tap_auth0.totals import COUNTABLE, count

if t.TYPE_CHECKING:
    import logging

    from singer_sdk import Tap

    from tap_auth0.changes.capture import ChangeCapture
    from tap_auth0.http_client import Auth0HTTP
    from tap_auth0.settings import Settings

Record = dict[str, t.Any]
Context = dict[str, t.Any]
DELETED_AT = "_sdc_deleted_at"
DELETED_AT_SCHEMA = {"type": ["null", "string"], "format": "date-time"}
# Room for every parent of a full-table stream: its children's lanes then run apart, each
# at its own bucket's pace (contexts are a few bytes each).
DECOUPLED_WINDOW = 100_000


class ScopeSkips:
    """Streams skipped because the token lacks a scope (or the plan a feature): one warning
    each, one summary."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self.skipped: dict[str, str] = {}
        self.first_error: ScopeError | None = None
        self._lock = threading.Lock()

    def add(self, stream: str, exc: ScopeError, *, why: str = "") -> None:
        with self._lock:
            if stream in self.skipped:
                return
            self.skipped[stream] = exc.short
            self.first_error = self.first_error or exc
        self.logger.warning(
            "Stream '%s' skipped: %s%s", stream, exc.reason, f" ({why})" if why else ""
        )

    def summary(self) -> str | None:
        if not self.skipped:
            return None
        parts = [f"{name} ({short})" for name, short in self.skipped.items()]
        return f"Skipped (scopes or plan): {', '.join(parts)}"


class Auth0Stream(StreamHooks):
    """Base for every stream; subclasses mostly just declare."""

    # -- declaration --------------------------------------------------------------------
    path: t.ClassVar[str] = ""
    records_key: t.ClassVar[str | None] = None
    paginator: t.ClassVar[Paginator] = OffsetPaginator()
    # Any one of these scopes lets the token read the endpoint (Auth0's "expected any of").
    scopes: t.ClassVar[tuple[str, ...]] = ()
    params: t.ClassVar[dict[str, str]] = {}
    parent: t.ClassVar[type[Auth0Stream] | None] = None
    # Typed here for mypy: the SDK declares these in __init__, as its own Stream type.
    name: str
    child_streams: list[Auth0Stream]  # type: ignore[assignment]
    # On a parent: the children's context, as context key -> parent record field.
    child_context: t.ClassVar[dict[str, str]] = {}
    # Rows computed from a sibling child's answers (no requests of its own).
    derived_from: t.ClassVar[type[Auth0Stream] | None] = None
    # Dropped from every record: what a derived stream carries instead.
    drop_fields: t.ClassVar[tuple[str, ...]] = ()
    # Secrets: never asked for (`fields=…&include_fields=false`, where the endpoint takes
    # it), and dropped again from whatever comes back.
    secret_fields: t.ClassVar[tuple[str, ...]] = ()
    exclude_by_fields: t.ClassVar[bool] = True
    # Rename Auth0's odd spellings (`clientID`) to the table's column names.
    renamed_fields: t.ClassVar[dict[str, str]] = {}
    # Not selected unless the catalog asks (streams costing a request per user).
    selected_by_default: bool = True
    # A full read ends with ACTIVATE_VERSION (loaders then drop rows deleted in Auth0).
    activate_version: t.ClassVar[bool] = True
    # Hand a parent on only after its children were emitted (bookmark safety).
    hold_parents: t.ClassVar[bool] = False
    # Get one by id (`/roles/{id}`): how change capture reads a nominated parent.
    item_path: t.ClassVar[str] = ""
    # Change capture may write tombstones (the key and `_sdc_deleted_at`) to this table.
    tombstones: t.ClassVar[bool] = False
    # `schemas/<schema_file>.json` when not `schemas/<name>.json` (streams sharing one).
    schema_file: t.ClassVar[str | None] = None

    # Auth0's JSON is already JSON-typed and the schemas allow extra keys: per-record
    # conformance would cost more than the rest of the output path and change nothing
    # (tests/test_schemas.py proves it on every recorded payload).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.parent_stream_type = cls.parent
        if cls.parent is not None:
            # No state per parent record: it would grow with the tenant. (Top-level streams
            # keep the SDK's default: a partitioning key makes it treat them as unsorted.)
            cls.state_partitioning_keys = []  # type: ignore[method-assign,assignment]

    def __init__(
        self,
        tap: Tap,
        *,
        settings: Settings,
        http: Auth0HTTP,
        skips: ScopeSkips,
        capture: ChangeCapture | None = None,
    ) -> None:
        self.settings = settings
        self.http = http
        self.skips = skips
        self.capture = capture
        schema = load_schema(self.schema_file or self.name)
        # Every table has the tenant's name (tenant.py); tombstones' tables `_sdc_deleted_at`.
        extra: dict[str, t.Any] = {TENANT: TENANT_SCHEMA}
        if self.tombstones:
            extra[DELETED_AT] = DELETED_AT_SCHEMA
        schema = {**schema, "properties": {**schema.get("properties", {}), **extra}}
        self.tenant = settings.tenant
        super().__init__(tap, schema=schema)
        self._counter: t.Any = None
        self.emitted = 0
        self._table_start = 0  # `emitted` when this run's child table began
        # (rows read, rows of the last activated read) when the shrink guard held back
        # this run's ACTIVATE_VERSION; for a run summary.
        self.held_back: tuple[int, int] | None = None

    def lacks_scope(self, scopes: frozenset[str] | None) -> bool:
        """Whether a token holding `scopes` (None: not readable from the token) certainly
        cannot read this stream: it needs a scope and the token holds none it accepts."""
        return scopes is not None and bool(self.scopes) and not scopes.intersection(self.scopes)

    # -- reading ------------------------------------------------------------------------
    def url_path(self, context: t.Mapping[str, t.Any] | None) -> str:
        if not context:
            return self.path
        return self.path.format(**{k: quote(str(v), safe="") for k, v in context.items()})

    def request_params(self, context: t.Mapping[str, t.Any] | None) -> dict[str, t.Any]:
        """Query parameters beyond paging: the declared ones, and the secrets left out."""
        params = dict(self.params)
        if self.secret_fields and self.exclude_by_fields:
            params["fields"] = ",".join(self.secret_fields)
            params["include_fields"] = "false"
        return params

    def fetch(self, context: t.Mapping[str, t.Any] | None = None) -> t.Iterator[Record]:
        """Every record at `path`, page by page, with the context's keys added."""
        path = self.url_path(context)
        base = self.request_params(context)
        what = f"GET /api/v2{self.path}"

        def get(paging: dict[str, t.Any]) -> t.Any:
            return self.http.get_json(path, {**base, **paging}, bucket=self.path)

        for page in self.paginator.pages(get, self.records_key, what):
            for record in page:
                yield {**context, **record} if context else record

    def fetch_children(self, context: Context) -> list[Record]:
        """A child's records for one parent (run on a worker thread)."""
        return list(self.fetch(context))

    def derive(self, records: list[Record]) -> list[Record]:
        """A derived stream's rows from its sibling's records."""
        raise NotImplementedError

    def records(self, context: t.Mapping[str, t.Any] | None) -> t.Iterable[Record]:
        return self.fetch(context)

    def released(self, source: t.Iterable[Record]) -> t.Iterable[Record]:
        """The records as the SDK takes them (after any fan-out); a stream that moves its
        own bookmark watches them pass here."""
        return source

    def after_records(self, context: t.Mapping[str, t.Any] | None) -> None:
        """Runs once every record and child record of a complete read was emitted."""

    def post_process(
        self, row: Record, context: t.Mapping[str, t.Any] | None = None
    ) -> Record | None:
        """Every record passes here (subclasses end with this one): the tenant's name is
        added, and dropped, secret and renamed fields handled."""
        row[TENANT] = self.tenant
        if not (self.drop_fields or self.secret_fields or self.renamed_fields):
            return row  # most streams, users and logs among them: once per record
        for key in self.drop_fields:
            row.pop(key, None)
        for key in self.secret_fields:
            row.pop(key, None)
        for old, new in self.renamed_fields.items():
            if old in row:
                row[new] = row.pop(old)
        return row

    # -- the sync ---------------------------------------------------------------------------
    def read_plan(self, children: list[Auth0Stream]) -> ReadPlan:
        """Whole, by id or nothing (change capture, changes/capture.py). A table never read
        completely, or with a child never read completely, is read whole."""
        full = self.replication_key is None and self.activate_version
        if self.capture is None or not full or self.parent is not None:
            return WHOLE
        read = ([self] if self.selected else []) + children
        fresh = any(previous_rows(s.stream_state) is None for s in read)
        return self.capture.plan(self.name, [c.name for c in children], fresh=fresh)

    def records_by_id(self, ids: t.Collection[str]) -> t.Iterator[Record]:
        """Each nominated item by id; a 404 confirms its deletion: a tombstone."""
        params = self.request_params(None)
        for item_id in sorted(ids):
            item = self.http.get_item(self.item_path, item_id, params)
            if item is None:
                self.write_tombstone((item_id,))
            else:
                yield item

    def write_tombstone(self, key: t.Sequence[str]) -> None:
        """A confirmed deletion: the key and `_sdc_deleted_at` (loaders with `hard_delete`
        drop the row, others mark it)."""
        if self.selected and self.capture is not None and self.tombstones:
            row = self.capture.tombstone(self.name, self.primary_keys or (), key)
            row[TENANT] = self.tenant
            self.write_record(row)

    def _source(self, plan: ReadPlan, context: t.Mapping[str, t.Any] | None) -> t.Iterable[Record]:
        if plan.whole:
            return self._confirming(self.records(context))
        return self.records_by_id(plan.ids)

    def _confirming(self, source: t.Iterable[Record]) -> t.Iterable[Record]:
        """A whole read, checked against the items the log says were deleted from the
        table (change capture): each one it no longer lists is confirmed, a tombstone."""
        claims = self.capture.claims(self.name, TABLE) if self.capture else []
        if not claims:
            yield from source
            return
        listed: set[tuple[str, ...]] = set()
        for record in source:
            listed.add(self._key(record))
            yield record
        self._confirm(claims, listed)

    def _key(self, record: Record) -> tuple[str, ...]:
        """The record's primary key as change capture names it: a tuple of strings."""
        return tuple(str(record.get(k)) for k in self.primary_keys or ())

    def _confirm(
        self, claims: t.Iterable[tuple[str, ...]], listed: t.Container[tuple[str, ...]]
    ) -> None:
        """Each item the log says was deleted, and that a whole re-read (of the table or of
        its parent's children) no longer lists, is confirmed: a tombstone."""
        for key in claims:
            if key not in listed:
                self.write_tombstone(key)

    def _wanted(self, plan: ReadPlan) -> t.Callable[[Record], bool] | None:
        """Which parents' children a read fetches (None: every parent's)."""
        if plan.children_of is None:
            return None
        field = next(iter(self.child_context.values()))
        return lambda record: plan.wants_children(str(record.get(field)))

    def get_records(self, context: t.Mapping[str, t.Any] | None) -> t.Iterable[Record]:
        if self.name in self.skips.skipped:
            return
        children = [c for c in self.child_streams if c.selected]
        plan = self.read_plan(children)
        if plan.nothing:
            return  # change capture: nothing in this table changed
        full = self.replication_key is None and self.activate_version and plan.complete
        if full and self.selected:
            self.table_version = int(time.time() * 1000)
        for child in children:
            child.begin_table()
        rows = 0
        try:
            source = self._source(plan, context)
            if children:
                fan = self.fan_out(children)
                source = fan.along(source, self.context_for_children, self._wanted(plan))
            if full and self.selected:
                for record in self.released(source):
                    rows += 1
                    yield record
            else:
                yield from self.released(source)
        except ScopeError as exc:
            self.skips.add(self.name, exc)
            for child in children:
                self.skips.add(child.name, exc, why=f"its parent '{self.name}' was refused")
                child.end_table(complete=False)
            return
        self.after_records(context)
        if full and self.selected:
            self.activate_table(t.cast(int, self.table_version), rows)
        for child in children:
            child.end_table(complete=self.children_complete and plan.children_complete)

    @property
    def children_complete(self) -> bool:
        """Whether this read gave every child its whole table (so ACTIVATE_VERSION may drop
        the rest); an incremental parent reads children only for what changed."""
        return True

    def activate_table(self, version: int, rows: int) -> None:
        """ACTIVATE_VERSION after a complete read of `rows` rows, unless it shrank past
        `max_table_shrink` since the last one (shrink_guard.py)."""
        state = self.stream_state
        last = previous_rows(state)  # before may_activate stores this read's count
        if may_activate(
            state, self.name, rows, max_shrink=self.settings.max_table_shrink, logger=self.logger
        ):
            self.write_activate_version(version)
            self.state_manager.is_flushed = False
        else:
            self.held_back = (rows, t.cast(int, last))  # held: previous_rows gave an int

    @property
    def table_rows(self) -> int:
        """Rows the fan-out emitted into this child's table since `begin_table`."""
        return self.emitted - self._table_start

    def context_for_children(self, record: Record) -> Context:
        return {key: record[field] for key, field in self.child_context.items()}

    def generate_child_contexts(
        self, record: Record, context: t.Mapping[str, t.Any] | None
    ) -> t.Iterable[Context | None]:
        """None: children are fetched by the fan-out, not synced once per parent record."""
        return ()

    @property
    def fanout_window(self) -> int:
        return DECOUPLED_WINDOW

    def fan_out(self, children: list[Auth0Stream]) -> FanOut:
        """One lane per child that makes requests; derived children ride on their source."""
        by_source: dict[str, tuple[Auth0Stream, list[Auth0Stream]]] = {}
        for child in children:
            source = child
            if child.derived_from is not None:
                source = next(c for c in self.child_streams if type(c) is child.derived_from)
            by_source.setdefault(source.name, (source, []))[1].append(child)
        lanes = []
        for source, consumers in by_source.values():
            source.prepare(consumers)
            lanes.append(
                Lane(
                    source.name,
                    source.fetch_children,
                    self._emitter(source, consumers),
                    workers=self.settings.max_concurrency,
                    on_scope_error=self._lane_refused(consumers),
                    progress=Progress(self.logger, source.name, self.name, self.expected_total),
                )
            )
        return FanOut(lanes, hold_parents=self.hold_parents, window=self.fanout_window)

    @staticmethod
    def _emitter(
        source: Auth0Stream, consumers: list[Auth0Stream]
    ) -> t.Callable[[list[Record], Context], None]:
        derived = [c for c in consumers if c is not source]
        emit_source = source in consumers

        def emit(records: list[Record], context: Context) -> None:
            for consumer in derived:
                consumer.emit(consumer.derive(records), context)
            if emit_source:
                source.emit(records, context)

        return emit

    def _lane_refused(self, consumers: list[Auth0Stream]) -> t.Callable[[ScopeError], None]:
        def refused(exc: ScopeError) -> None:
            for consumer in consumers:
                self.skips.add(consumer.name, exc)

        return refused

    _expected: tuple[int | None] | None = None

    def expected_total(self) -> int | None:
        """This parent's record count, for its children's progress ETA: asked of Auth0
        once (one `per_page=1` request, plan.py), only when a progress line is due."""
        if self._expected is None:
            total = None
            if self.path in COUNTABLE:
                try:
                    total = count(self.http, self.path)
                except TapAuth0Error:
                    total = None
            self._expected = (total,)
        return self._expected[0]

    def prepare(self, consumers: list[Auth0Stream]) -> None:
        """Before a fan-out: which streams will consume this one's answers."""

    # -- a child's table ------------------------------------------------------------------
    def begin_table(self) -> None:
        """SCHEMA, table version and record counter for a child the fan-out emits."""
        self.write_schema()
        if self.replication_key is None and self.activate_version:
            self.table_version = int(time.time() * 1000)
        self._counter = self.get_record_counter()
        self._counter.__enter__()
        self._table_start = self.emitted

    def emit(self, records: t.Iterable[Record], context: t.Mapping[str, t.Any] | None) -> None:
        claims = self._claims(context)
        listed: set[tuple[str, ...]] = set()
        for record in records:
            if claims:
                listed.add(self._key(record))
            row = self.post_process(record, context)
            if row is None:
                continue
            self.write_record(row)
            self.emitted += 1
            if self._counter is not None:
                self._counter.increment()
        self._confirm(claims, listed)  # what the re-read parent no longer lists

    def _claims(self, context: t.Mapping[str, t.Any] | None) -> list[tuple[str, ...]]:
        """Children the log says left this parent (change capture), to check against its
        re-read."""
        if self.capture is None or not self.capture.active or not context:
            return []
        return self.capture.claims(self.name, str(next(iter(context.values()))))

    def end_table(self, *, complete: bool) -> None:
        if self._counter is not None:
            self._counter.__exit__(None, None, None)
            self._counter = None
        skipped = self.name in self.skips.skipped
        if complete and not skipped and self.table_version is not None and self.activate_version:
            self.activate_table(self.table_version, self.table_rows)
