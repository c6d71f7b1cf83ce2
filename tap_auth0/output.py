"""Singer message output: msgspec encoding, flushed at STATE rather than per record.

Flushing stdout after every RECORD costs a system call per user; flushing before every
non-RECORD message (STATE above all) keeps the guarantee that matters: when a target
has a STATE, it has every record emitted before it.
"""

from __future__ import annotations

import atexit
import io
import os
import sys
import typing as t
from datetime import datetime

from singer_sdk.contrib.msgspec import MsgSpecWriter, serialize_jsonl
from singer_sdk.singerlib.messages import RecordMessage

from tap_auth0.errors import TargetStopped

# Under PYTHONUNBUFFERED=1 (or -u), common in containers, stdout's binary layer is the raw
# file: a system call per RECORD. Such a file gets a buffer of the tap's own, of the size
# Python's own stdout buffer has, flushed with stdout (before every non-RECORD message, and
# at exit).
BUFFER_BYTES = io.DEFAULT_BUFFER_SIZE
_buffered: dict[int, tuple[io.RawIOBase, io.BufferedWriter]] = {}


def _sink(out: t.Any) -> t.Any:
    if not isinstance(out, io.RawIOBase):
        return out
    entry = _buffered.get(id(out))
    if entry is None or entry[0] is not out:
        entry = (out, io.BufferedWriter(out, BUFFER_BYTES))
        _buffered[id(out)] = entry
    return entry[1]


class _Guard:
    """Whether stdout is being written. A signal handler can run inside a buffered write
    (Python runs it when the system call is interrupted), where writing again raises
    "reentrant call" and a STATE would never come out: such a handler defers its work to
    the end of the write (`after_write`)."""

    busy = False
    deferred: t.Callable[[], None] | None = None
    # The target stopped reading (broken pipe): nothing more is written.
    stopped = False


def _target_stopped() -> t.NoReturn:
    """Stdout's reader is gone: write nothing more (no STATE either), and stop the run.
    Python flushes stdout once more at exit; pointed at /dev/null, that cannot fail."""
    _Guard.stopped = True
    _Guard.deferred = None
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass  # not a file descriptor (a test's StringIO): nothing to flush at exit
    raise TargetStopped


def after_write(action: t.Callable[[], None]) -> bool:
    """Run `action` now if nothing is being written (True), else when the write ends."""
    if not _Guard.busy:
        return True
    _Guard.deferred = action
    return False


def _guarded(write: t.Callable[[], None]) -> None:
    _Guard.busy = True
    try:
        write()
    except BrokenPipeError:
        _target_stopped()
    finally:
        _Guard.busy = False
    action = _Guard.deferred
    if action is not None:
        _Guard.deferred = None
        action()


def _write(data: bytes | bytearray) -> None:
    if _Guard.stopped:
        return
    out = getattr(sys.stdout, "buffer", None)
    if out is None:  # a text stream, e.g. redirected in tests
        sys.stdout.write(data.decode())
        return
    # _guarded, inlined: this runs once per record.
    _Guard.busy = True
    try:
        _sink(out).write(data)
    except BrokenPipeError:
        _target_stopped()
    finally:
        _Guard.busy = False
    if _Guard.deferred is not None:
        action, _Guard.deferred = _Guard.deferred, None
        action()


def _flush() -> None:
    if _Guard.stopped:
        return
    for raw, buffered in list(_buffered.values()):
        if not raw.closed:
            buffered.flush()
    sys.stdout.flush()


def flush() -> None:
    """Everything written so far reaches stdout's file."""
    _guarded(_flush)


atexit.register(flush)


class BufferedMsgSpecWriter(MsgSpecWriter):
    # RECORDs written per stream (after stream maps), for the run's summary (report.py).
    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.records: dict[str, int] = {}

    def write_message(self, message) -> None:  # type: ignore[no-untyped-def]
        if isinstance(message, RecordMessage):
            self.count(message.stream)
        _write(self.format_message(message))
        if not isinstance(message, RecordMessage):
            flush()

    def write_record(
        self,
        stream: str,
        record: dict[str, t.Any],
        version: int | None,
        time_extracted: datetime | None,
    ) -> None:
        """A RECORD line without a message object per record: the dict `RecordMessage.to_dict`
        builds (same keys, same order), through the same encoder. `time_extracted` must be
        aware and in UTC already (RecordMessage would convert it)."""
        records = self.records  # count(stream), inlined: this runs once per record
        records[stream] = records.get(stream, 0) + 1
        message: dict[str, t.Any] = {"type": "RECORD", "stream": stream, "record": record}
        if version is not None:
            message["version"] = version
        if time_extracted is not None:
            message["time_extracted"] = time_extracted
        _write(serialize_jsonl(message))

    def count(self, stream: str) -> None:
        self.records[stream] = self.records.get(stream, 0) + 1
