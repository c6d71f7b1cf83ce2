"""Every use of the Singer SDK's private internals, in one place.

The SDK has no public hook for what the tap needs here: a faster record write and sync
loop, records that must not move a bookmark, SCHEMA / ACTIVATE_VERSION / table versions for
child streams the tap fetches itself, its own config check before the SDK's, and a final
STATE on SIGTERM.
These two mixins turn each private method into a named public one, and
`tests/unit/test_sdk_hooks.py` pins the private names, signatures and call paths they rely on,
so an SDK upgrade that moves any of them fails there, loudly, rather than in a sync.

Two of them are *overrides*: leaner copies of SDK code (`OVERRIDES`: the sync loop, with a
sorted bookmark set in place, and the record write). Each runs only
where it was proven: on an SDK version in `PROVEN_SDK_VERSIONS` whose code they mirror
still hashes to `SDK_SOURCE_SHA256`. Anywhere else the SDK's own code runs, and one WARNING
says why. `TAP_AUTH0_SDK_OVERRIDES` switches them off (`off`), or keeps only the ones it
names (`sync_records,write_record`), for the bench and the tests of the SDK's path.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import os
import typing as t
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata

from singer_sdk import Stream, Tap
from singer_sdk.batch import Batcher
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers import _state as sdk_state
from singer_sdk.helpers import _typing as sdk_typing
from singer_sdk.helpers._compat import SingerSDKDeprecationWarning
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform, StreamMap
from singer_sdk.plugin_base import PluginBase
from singer_sdk.singerlib.catalog import Catalog
from singer_sdk.singerlib.messages import RecordMessage
from singer_sdk.streams._state import StreamStateManager

from tap_auth0.errors import ConfigError

if t.TYPE_CHECKING:
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig

# The SDK's private members this module touches (the pin test checks each exists).
STREAM_PRIVATE = (
    "_write_record_message",
    "_generate_record_messages",
    "_increment_stream_state",
    "_write_schema_message",
    "_write_activate_version_message",
    "_sync_records",
    "_process_record",
    "_get_state_partition_context",
    "_write_starting_replication_value",
    "_finalize_state",
    "_write_state_message",
    "_stream_version",
    "_tap",
)
TAP_PRIVATE = ("_validate_config", "_handle_termination", "_config")
TIME_EXTRACTED_EVERY = 256
# The record counter (a metric, logged once a minute) is incremented per this many records.
COUNT_EVERY = 100

# -- the overrides, and where they were proven -----------------------------------------------
SWITCH = "TAP_AUTH0_SDK_OVERRIDES"
# What each saves of a record's CPU: `make bench ARGS="--only overrides"` (docs/performance.md).
# The bookmark update outside the loop runs the SDK's own code: a copy of it saved 2% or less.
OVERRIDES = ("sync_records", "write_record")
# singer-sdk releases whose code each override mirrors was read and hashes as below (0.54.0
# and 0.54.1 are not on the package index).
PROVEN_SDK_VERSIONS = (
    "0.54.2",
    "0.54.3",
    "0.54.4",
    "0.54.5",
    "0.54.6",
    "0.54.7",
    "0.54.8",
    "0.54.9",
)


def mirrored_code() -> dict[str, tuple[t.Callable[..., t.Any], ...]]:
    """Per override, the SDK code it stands in for: if any of it changes, the override
    may no longer do what the SDK would."""
    return {
        # The loop sets a sorted bookmark in place: the SDK's bookmark update is mirrored too.
        "sync_records": (
            Stream._sync_records,
            Stream._process_record,
            Stream._increment_stream_state,
            StreamStateManager.increment_state,
            sdk_state.increment_state,
            sdk_typing.to_json_compatible,
        ),
        "write_record": (
            Stream._write_record_message,
            Stream._generate_record_messages,
            sdk_typing.conform_record_data_types,
            sdk_typing._conform_record_data_types,
        ),
    }


def source_digests() -> dict[str, str]:
    """SHA-256 of each override's mirrored SDK source, as installed (a few ms)."""
    return {
        name: hashlib.sha256("".join(inspect.getsource(f) for f in code).encode()).hexdigest()
        for name, code in mirrored_code().items()
    }


# The same in every version of PROVEN_SDK_VERSIONS (each one's wheel was checked).
SDK_SOURCE_SHA256 = {
    "sync_records": "53d05ef67c6b07c4da9bc9b0d21a8c1dfdf2ffdb1936ec8ea666c6931f52caed",
    "write_record": "d26216255e612da07e0540bef0c2ef55ce8c6609542c5b63c2d05ecc49b4b592",
}


def installed_sdk_version() -> str:
    try:
        return metadata.version("singer-sdk")
    except metadata.PackageNotFoundError:  # vendored without its metadata
        return "unknown"


@functools.cache
def unproven_because(version: str) -> str | None:
    """Why the installed SDK is not one the overrides were proven on; None if it is."""
    if version not in PROVEN_SDK_VERSIONS:
        return (
            f"singer-sdk {version} is not a version they were proven on "
            f"({PROVEN_SDK_VERSIONS[0]} to {PROVEN_SDK_VERSIONS[-1]})"
        )
    try:
        digests = source_digests()
    except (OSError, TypeError) as exc:  # no source shipped (e.g. a bytecode-only install)
        return f"the SDK's source cannot be read to check them ({exc})"
    changed = [name for name in OVERRIDES if digests[name] != SDK_SOURCE_SHA256[name]]
    if changed:
        return f"the SDK code they mirror differs from the proven one ({', '.join(changed)})"
    return None


def parse_switch(value: str | None) -> frozenset[str]:
    """The overrides `TAP_AUTH0_SDK_OVERRIDES` asks for: unset, empty, `on` or `all`: every one;
    `off` or `none`: none; else a comma-separated list of names from OVERRIDES."""
    text = (value or "on").strip().lower()
    if text in ("on", "all"):
        return frozenset(OVERRIDES)
    if text in ("off", "none"):
        return frozenset()
    names = {n.strip() for n in text.split(",") if n.strip()}
    unknown = sorted(names.difference(OVERRIDES))
    if unknown:
        raise ConfigError(
            f"{SWITCH}={value!r}: unknown override {', '.join(unknown)}; use on, off, or a "
            f"comma-separated list of {', '.join(OVERRIDES)}"
        )
    return frozenset(names)


@dataclass(frozen=True)
class OverridePlan:
    """Which overrides run, and the one line that says so when not all of them do."""

    on: frozenset[str]
    note: str | None = None
    level: int = logging.INFO


def plan_overrides(environ: t.Mapping[str, str] | None = None) -> OverridePlan:
    env = os.environ if environ is None else environ
    raw = env.get(SWITCH)
    wanted = parse_switch(raw)
    if not wanted:
        return OverridePlan(
            frozenset(), f"{SWITCH}={raw}: the Singer SDK's own sync code runs (no overrides)"
        )
    why = unproven_because(installed_sdk_version())
    if why is not None:
        return OverridePlan(
            frozenset(),
            f"Running the Singer SDK's own sync code instead of the tap's faster copies: {why}",
            logging.WARNING,
        )
    if wanted != frozenset(OVERRIDES):
        kept = ", ".join(n for n in OVERRIDES if n in wanted)
        return OverridePlan(wanted, f"{SWITCH}={raw}: only these overrides run: {kept}")
    return OverridePlan(wanted)


class StreamHooks(Stream):
    """Public names for the SDK's private stream internals the tap relies on."""

    # While true, records do not move the stream's bookmark (an export file is unordered).
    bookmarks_frozen = False
    _overrides_on: frozenset[str] | None = None
    _fast_output: bool | None = None
    _flatten: t.Callable[[dict], dict] | None = None
    _extracted_at: datetime | None = None
    _extracted_count = 0

    @property
    def sdk_overrides(self) -> frozenset[str]:
        """The overrides that run for this stream (decided once per run, by the tap)."""
        on = self._overrides_on
        if on is None:
            on = self._overrides_on = getattr(self._tap, "sdk_overrides", frozenset())
        return t.cast(frozenset[str], on)

    # -- overrides of private SDK methods ---------------------------------------------------
    def _sync_records(
        self, context: t.Any = None, *, write_messages: bool = True
    ) -> t.Generator[dict, t.Any, t.Any]:
        """The SDK's loop for the common case (a whole, unpartitioned, selected stream
        written to stdout, no record limit), without its per-record work that cannot apply
        there: the limit check, an empty partition merged in, child contexts when no child
        is synced by the SDK, a counter call per record. Anything else: the SDK's loop."""
        if not (
            context is None
            and write_messages
            and self.selected
            and self.ABORT_AT_RECORD_COUNT is None
            and not self.partitions
            and "sync_records" in self.sdk_overrides
        ):
            yield from super()._sync_records(context, write_messages=write_messages)
            return
        # What the SDK's loop does with context None (context_list [{}], current_context None).
        record_counter = self.get_record_counter()
        timer = self.get_sync_timer()
        post_process = self.post_process
        write_record = self._write_record_message
        increment_state = self._increment_stream_state
        frequency = self.STATE_MSG_FREQUENCY
        with record_counter, timer:
            record_counter.with_context({})
            timer.with_context({})
            partition_context = self._get_state_partition_context(None)
            self._write_starting_replication_value(None)
            # The SDK's _process_record only merges the partition's keys (an unpartitioned
            # stream has none) and syncs child streams: skipped when it has nothing to do.
            process = (
                self._process_record
                if partition_context
                or any(c.selected or c.has_selected_descendents for c in self.child_streams)
                else None
            )
            child_context = None
            # A plain sorted bookmark is the latest record's value: set in place here (what
            # the SDK's _increment_stream_state does, without its call chain per record).
            # The stream's state dict is the same object for the whole loop.
            sort_key = self.replication_key if self._lean_bookmark() else None
            state = self.get_context_state(None)
            written = uncounted = 0
            try:
                for record_result in self.get_records(None):
                    if isinstance(record_result, tuple):  # pragma: no cover - as the SDK does
                        warnings.warn(
                            "Yielding a tuple of (record, child_context) is deprecated and will "
                            "be removed in version 0.49 at the earliest. Please yield a single "
                            "item instead.",
                            SingerSDKDeprecationWarning,
                            stacklevel=2,
                        )
                        record_result, child_context = record_result
                        process = self._process_record
                    record = post_process(record_result, None)
                    if record is None:
                        continue
                    if process is not None:
                        process(
                            record, child_context=child_context, partition_context=partition_context
                        )
                    write_record(record)
                    value = record.get(sort_key) if sort_key else None
                    if isinstance(value, str) and not self.bookmarks_frozen:
                        state["replication_key"] = sort_key
                        state["replication_key_value"] = value
                    else:
                        increment_state(record, context=None)
                    written += 1
                    if written % frequency == 0:
                        self._write_state_message()
                    uncounted += 1
                    if uncounted == COUNT_EVERY:
                        record_counter.increment(uncounted)
                        uncounted = 0
                    yield record
            finally:
                if uncounted:
                    record_counter.increment(uncounted)
            if partition_context is None:
                self._finalize_state(self.get_context_state(None))
        self._finalize_state(self.stream_state)
        self._write_state_message()

    def _write_record_message(self, record: dict[str, t.Any]) -> None:
        """Fast path when the only stream map is the identity (flattening aside) and every
        property is selected: the SDK's generic path (mask walk, conformance, a message
        object per map) is most of a record's cost. The record is what the SDK would
        write: flattened by the SDK's own flattener when flattening is on."""
        fast = self._fast_output
        if fast is None:
            fast = self._fast_output = self._fast_output_applies()
        if not fast:
            super()._write_record_message(record)
            return
        if self._flatten is not None:
            record = self._flatten(record)
        # time_extracted to a fraction of a second is plenty; refresh it every 256 records.
        if self._extracted_at is None or self._extracted_count >= TIME_EXTRACTED_EVERY:
            self._extracted_at = datetime.now(timezone.utc)
            self._extracted_count = 0
        self._extracted_count += 1
        write_record = getattr(self._tap.message_writer, "write_record", None)
        if write_record is not None:  # output.BufferedMsgSpecWriter: no message object
            write_record(self.name, record, self._stream_version, self._extracted_at)
        else:
            self._tap.write_message(
                RecordMessage(
                    stream=self.name,
                    record=record,
                    version=self._stream_version,
                    time_extracted=self._extracted_at,
                )
            )
        self.state_manager.is_flushed = False

    def _fast_output_applies(self) -> bool:
        """What `_generate_record_messages` would do reduces to the map's flattening: one
        identity map under the stream's own name, nothing deselected, no conformance."""
        if "write_record" not in self.sdk_overrides:
            return False
        maps = self.stream_maps
        if not (
            len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and maps[0].stream_alias == self.name
            and self.TYPE_CONFORMANCE_LEVEL == TypeConformanceLevel.NONE
            and all(self.mask.values())
        ):
            return False
        self._flatten = maps[0].flatten_record if maps[0].flattening_enabled else None
        return True

    def _increment_stream_state(self, latest_record: dict, *, context: t.Any = None) -> None:
        """Not a faster copy: records of an unordered source (an export file) must not move
        the bookmark, which the SDK has no switch for."""
        if self.bookmarks_frozen:
            return
        super()._increment_stream_state(latest_record, context=context)

    def _lean_bookmark(self) -> bool:
        """Whether the lean loop may set the bookmark in place: the SDK would simply set it
        to each record's value (an incremental, sorted, unpartitioned stream whose order the
        SDK does not check; its to_json_compatible leaves a str as it is)."""
        return (
            self.replication_method == "INCREMENTAL"
            and bool(self.replication_key)
            and self.is_sorted
            and not self.check_sorted
            and self.state_partitioning_keys is None
        )

    # -- batch files hold what RECORD messages would -------------------------------------
    def get_batches(
        self, batch_config: BatchConfig, context: t.Any = None
    ) -> t.Iterable[tuple[BaseBatchFileEncoding, list[str]]]:
        """The SDK's batch files hold records as read, with deselected properties and
        nested objects the (flattened) SCHEMA lacks: here they hold what a RECORD would,
        through the SDK's own record path (deselection, stream map, flattening)."""
        batcher = Batcher(tap_name=self.tap_name, stream_name=self.name, batch_config=batch_config)
        records = self._sync_records(context, write_messages=False)
        for manifest in batcher.get_batches(records=self._as_written(records)):
            yield batch_config.encoding, manifest

    def _as_written(self, records: t.Iterable[dict]) -> t.Iterator[dict]:
        for record in records:
            for message in self._generate_record_messages(record):
                yield message.record

    # -- public names for private SDK members -------------------------------------------------
    def write_record(self, record: dict[str, t.Any]) -> None:
        """RECORD for a record the tap fetched itself (outside the SDK's sync loop)."""
        self._write_record_message(record)

    def write_schema(self) -> None:
        self._write_schema_message()

    def write_activate_version(self, version: int) -> None:
        self._write_activate_version_message(version)

    @property
    def table_version(self) -> int | None:
        """The version every RECORD carries; ACTIVATE_VERSION with it drops older rows."""
        return self._stream_version

    @table_version.setter
    def table_version(self, version: int | None) -> None:
        self._stream_version = version


# The SDK logs this at INFO for every parent/child pair on every run.
CHILD_STREAM_LINE = "Added '%s' as child stream to '%s'"


class _ChildStreamLinesAtDebug(logging.Filter):
    """Turns the SDK's "Added 'x' as child stream to 'y'" lines into DEBUG ones."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == CHILD_STREAM_LINE and record.levelno == logging.INFO:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


def without_empty_properties(node: t.Any) -> t.Any:
    """A copy of a JSON schema where an object declaring no properties (`"properties": {}`,
    an open object) has no `properties` key: the same schema, but the SDK's flattener makes
    it one JSON column (as it does any object without `properties`) instead of leaving it
    out of the SCHEMA while its record keys become columns the SCHEMA lacks."""
    if isinstance(node, list):
        return [without_empty_properties(x) for x in node]
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    open_object = node.get("properties") == {} and "object" in (
        kind if isinstance(kind, list) else [kind]
    )
    return {
        k: without_empty_properties(v)
        for k, v in node.items()
        if not (open_object and k == "properties")
    }


def fit_flattened_records(stream_map: StreamMap) -> None:
    """The SDK flattens a null object to its own key (`location_info: null`), a column the
    flattened SCHEMA lacks (it has `location_info__country_code`…): that key is dropped,
    which loses nothing. On both record paths: they call the map's `flatten_record`."""
    flatten = stream_map.flatten_record

    def flatten_record(record: dict) -> dict:
        flat = flatten(record)
        declared = stream_map.transformed_schema.get("properties", {})
        for key in [k for k, v in flat.items() if v is None and k not in declared]:
            del flat[key]
        return flat

    stream_map.flatten_record = flatten_record  # type: ignore[method-assign]


class TapHooks(Tap):
    """Public names for the SDK's private tap internals the tap relies on."""

    _sdk_plan: OverridePlan | None = None

    def setup_mapper(self) -> None:
        """What the SDK's Tap.setup_mapper does, but with flattening on its maps get the
        catalog's schemas `without_empty_properties`, so that flattened RECORDs fit the
        flattened SCHEMA. The tap's own catalog (and --discover) is left as it is."""
        config = self.config
        if not (config.get("flattening_enabled") and (config.get("flattening_max_depth") or 0) > 0):
            super().setup_mapper()
            return
        PluginBase.setup_mapper(self)  # the mapper itself, without Tap's registration
        catalog = Catalog.from_dict(without_empty_properties(self.catalog.to_dict()))
        self.mapper.register_raw_streams_from_catalog(catalog)
        for maps in self.mapper.stream_maps.values():
            for stream_map in maps:
                if stream_map.flattening_enabled:
                    fit_flattened_records(stream_map)

    def validate_settings(self, config: t.Mapping[str, t.Any]) -> None:
        """The tap's own checks, run before the SDK's JSON-schema validation; raise a
        one-line error naming the setting."""

    def config_error(self, errors: list[str]) -> Exception:
        """The error for what the SDK's JSON-schema validation found."""
        return ConfigValidationError("Invalid config", errors=errors)

    def on_termination(self, signum: int) -> None:
        """SIGTERM/SIGINT arrived; must raise to stop the run."""
        raise SystemExit(128 + signum)

    @property
    def sdk_overrides(self) -> frozenset[str]:
        """The overrides (OVERRIDES) this run uses; decided, and said, once."""
        if self._sdk_plan is None:
            self._sdk_plan = plan = plan_overrides()
            if plan.note:
                self.logger.log(plan.level, "%s", plan.note)
        return self._sdk_plan.on

    def sync_all(self) -> None:
        _ = self.sdk_overrides  # before the first message: a bad switch stops the run here
        self._check_batch_maps()
        super().sync_all()

    def _check_batch_maps(self) -> None:
        """A batch file holds one shape of record: a stream the maps copy into several
        streams cannot be batched (the SDK would send every copy the same, unmapped file)."""
        if not self.config.get("batch_config"):
            return
        split = [
            s.name
            for s in self.streams.values()
            if s.selected and s.parent_stream_type is None and len(s.stream_maps) > 1
        ]
        if split:
            raise ConfigError(
                f"Setting 'batch_config' cannot batch a stream that 'stream_maps' copies into "
                f"several streams ({', '.join(split)}): remove the copy or batch_config"
            )

    def sync_first(self, name: str) -> None:
        """Sync stream `name` before the others (the SDK syncs in `streams` order)."""
        streams = self.streams
        if name in streams:
            self._streams = {name: streams[name], **{k: v for k, v in streams.items() if k != name}}

    def load_streams(self) -> list[Stream]:  # type: ignore[misc]
        logger = self.logger
        quiet = _ChildStreamLinesAtDebug()
        logger.addFilter(quiet)
        try:
            return super().load_streams()
        finally:
            logger.removeFilter(quiet)

    # -- overrides of private SDK methods ---------------------------------------------------
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        try:
            self.validate_settings(self._config)
        except Exception as exc:
            if raise_errors:
                raise
            return [str(exc)]
        try:
            return super()._validate_config(raise_errors=raise_errors)
        except ConfigValidationError as exc:
            raise self.config_error(exc.errors) from None

    def _handle_termination(self, signum: int, frame: t.Any) -> None:
        self.on_termination(signum)
