"""Singer message output: msgspec encoding, flushed at STATE rather than per record.

Flushing stdout after every RECORD costs a system call per user; flushing before every
non-RECORD message (STATE above all) keeps the guarantee that matters: when a target
has a STATE, it has every record emitted before it.
"""

from __future__ import annotations

import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib.messages import RecordMessage


class BufferedMsgSpecWriter(MsgSpecWriter):
    def write_message(self, message) -> None:  # type: ignore[no-untyped-def]
        data = self.format_message(message)
        out = getattr(sys.stdout, "buffer", None)
        if out is None:  # a text stream, e.g. redirected in tests
            sys.stdout.write(data.decode())
        else:
            out.write(data)
        if not isinstance(message, RecordMessage):
            sys.stdout.flush()
