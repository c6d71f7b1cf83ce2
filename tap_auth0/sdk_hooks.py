"""Every use of the Singer SDK's private internals, in one place.

The SDK has no public hook for what the tap needs here: a faster record write, records that
must not move a bookmark, SCHEMA / ACTIVATE_VERSION / table versions for child streams the
tap fetches itself, its own config check before the SDK's, and a final STATE on SIGTERM.
These two mixins turn each private method into a named public one, and
`tests/unit/test_sdk_hooks.py` pins the private names, signatures and call paths they rely on,
so an SDK upgrade that moves any of them fails there, loudly, rather than in a sync.
"""

from __future__ import annotations

import typing as t
from datetime import datetime, timezone

from singer_sdk import Stream, Tap
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib.messages import RecordMessage

# The SDK's private members this module touches (the pin test checks each exists).
STREAM_PRIVATE = (
    "_write_record_message",
    "_increment_stream_state",
    "_write_schema_message",
    "_write_activate_version_message",
    "_stream_version",
    "_tap",
)
TAP_PRIVATE = ("_validate_config", "_handle_termination", "_config")
TIME_EXTRACTED_EVERY = 256


class StreamHooks(Stream):
    """Public names for the SDK's private stream internals the tap relies on."""

    # While true, records do not move the stream's bookmark (an export file is unordered).
    bookmarks_frozen = False
    _fast_output: bool | None = None
    _extracted_at: datetime | None = None
    _extracted_count = 0

    # -- overrides of private SDK methods ---------------------------------------------------
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
