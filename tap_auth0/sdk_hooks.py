"""Every use of the Singer SDK's private internals, in one place.

The SDK has no public hook for what the tap needs here: a faster record write and sync
loop, records that must not move a bookmark, SCHEMA / ACTIVATE_VERSION / table versions for
child streams the tap fetches itself, its own config check before the SDK's, and a final
STATE on SIGTERM.
These two mixins turn each private method into a named public one, and
`tests/unit/test_sdk_hooks.py` pins the private names, signatures and call paths they rely on,
so an SDK upgrade that moves any of them fails there, loudly, rather than in a sync.
"""

from __future__ import annotations

import typing as t
import warnings
from datetime import datetime, timezone

from singer_sdk import Stream, Tap
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers._compat import SingerSDKDeprecationWarning
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib.messages import RecordMessage

# The SDK's private members this module touches (the pin test checks each exists).
STREAM_PRIVATE = (
    "_write_record_message",
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


class StreamHooks(Stream):
    """Public names for the SDK's private stream internals the tap relies on."""

    # While true, records do not move the stream's bookmark (an export file is unordered).
    bookmarks_frozen = False
    _fast_output: bool | None = None
    _extracted_at: datetime | None = None
    _extracted_count = 0

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
            # _increment_stream_state below does, without a call chain per record). The
            # stream's state dict is the same object for the whole loop.
            sort_key = self.replication_key if self._plain_sorted_bookmark() else None
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
        """Fast path when no stream map or property deselection applies: the SDK's generic
        path (mask walk, mapper, message object per map) is most of a record's cost."""
        if self._fast_output is None:
            maps = self.stream_maps
            self._fast_output = (
                len(maps) == 1
                and type(maps[0]) is SameRecordTransform
                and maps[0].stream_alias == self.name
                and all(self.mask.values())
            )
        if not self._fast_output:
            super()._write_record_message(record)
            return
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

    def _increment_stream_state(self, latest_record: dict, *, context: t.Any = None) -> None:
        if self.bookmarks_frozen:
            return
        if context is None and self._plain_sorted_bookmark():
            value = latest_record.get(self.replication_key)  # type: ignore[arg-type]
            if isinstance(value, str):
                # What the SDK does for a sorted stream whose order is not checked (its
                # to_json_compatible leaves a str as it is), without its per-record helper
                # chain: the bookmark is the latest record's value.
                state = self.get_context_state(None)
                state["replication_key"] = self.replication_key
                state["replication_key_value"] = value
                return
        super()._increment_stream_state(latest_record, context=context)

    def _plain_sorted_bookmark(self) -> bool:
        """Whether the SDK would simply set the bookmark to each record's value: an
        incremental, sorted, unpartitioned stream whose order the SDK does not check."""
        return (
            self.replication_method == "INCREMENTAL"
            and bool(self.replication_key)
            and self.is_sorted
            and not self.check_sorted
            and self.state_partitioning_keys is None
        )

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


class TapHooks(Tap):
    """Public names for the SDK's private tap internals the tap relies on."""

    def validate_settings(self, config: t.Mapping[str, t.Any]) -> None:
        """The tap's own checks, run before the SDK's JSON-schema validation; raise a
        one-line error naming the setting."""

    def config_error(self, errors: list[str]) -> Exception:
        """The error for what the SDK's JSON-schema validation found."""
        return ConfigValidationError("Invalid config", errors=errors)

    def on_termination(self, signum: int) -> None:
        """SIGTERM/SIGINT arrived; must raise to stop the run."""
        raise SystemExit(128 + signum)

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
