"""Singer message output: msgspec encoding, flushed at STATE rather than per record.

Flushing stdout after every RECORD costs a system call per user; flushing before every
non-RECORD message (STATE above all) keeps the guarantee that matters: when a target
has a STATE, it has every record emitted before it.
"""

from __future__ import annotations

import sys
import typing as t
from datetime import datetime

from singer_sdk.contrib.msgspec import MsgSpecWriter, serialize_jsonl
from singer_sdk.singerlib.messages import RecordMessage


def _write(data: bytes | bytearray) -> None:
    out = getattr(sys.stdout, "buffer", None)
    if out is None:  # a text stream, e.g. redirected in tests
        sys.stdout.write(data.decode())
    else:
        out.write(data)


class BufferedMsgSpecWriter(MsgSpecWriter):
    def write_message(self, message) -> None:  # type: ignore[no-untyped-def]
        _write(self.format_message(message))
        if not isinstance(message, RecordMessage):
            sys.stdout.flush()

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
        message: dict[str, t.Any] = {"type": "RECORD", "stream": stream, "record": record}
        if version is not None:
            message["version"] = version
        if time_extracted is not None:
            message["time_extracted"] = time_extracted
        _write(serialize_jsonl(message))
