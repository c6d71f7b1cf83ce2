"""The RECORD fast path writes exactly the bytes of the SDK's RecordMessage path."""

from __future__ import annotations

import io
import sys
from datetime import datetime, timezone

import pytest
from singer_sdk.singerlib.messages import RecordMessage

from tap_auth0.output import BufferedMsgSpecWriter

RECORD = {
    "user_id": "auth0|1",
    "name": 'Zoë "Q" \\ 😀',
    "n": [1, 2.5, -0.0, None, True],
    "app_metadata": {"big": 12345678901234567890123, "nested": {"a": []}},
}


class Capture(io.TextIOBase):
    def __init__(self) -> None:
        self.buffer = io.BytesIO()


@pytest.mark.parametrize("version", [None, 1700000000000])
@pytest.mark.parametrize("extracted", [None, datetime(2026, 1, 2, 3, 4, 5, 678901, timezone.utc)])
def test_write_record_equals_the_record_message_bytes(monkeypatch, version, extracted):
    writer = BufferedMsgSpecWriter()
    out = Capture()
    monkeypatch.setattr(sys, "stdout", out)
    writer.write_message(
        RecordMessage(stream="users", record=RECORD, version=version, time_extracted=extracted)
    )
    sdk = out.buffer.getvalue()
    out.buffer = io.BytesIO()
    writer.write_record("users", RECORD, version, extracted)
    assert out.buffer.getvalue() == sdk
    assert sdk.startswith(b'{"type":"RECORD","stream":"users","record":{"user_id"')


def test_an_unbuffered_stdout_gets_one_system_call_per_buffer_not_per_record(monkeypatch, tmp_path):
    """PYTHONUNBUFFERED=1 makes stdout's binary layer the raw file; records are buffered
    anyway, and a STATE (any non-RECORD message) flushes everything before it."""
    from singer_sdk.singerlib.messages import StateMessage

    from tap_auth0 import output

    path = tmp_path / "out"
    writes = []

    class Counting(io.FileIO):
        def write(self, b):  # type: ignore[override]
            writes.append(len(b))
            return super().write(b)

    raw = Counting(path, "w")
    stdout = io.TextIOWrapper(raw, write_through=True)
    monkeypatch.setattr(sys, "stdout", stdout)
    writer = BufferedMsgSpecWriter()
    for i in range(500):
        writer.write_record("users", {**RECORD, "user_id": f"auth0|{i}"}, None, None)
    assert 0 < len(writes) < 50, f"{len(writes)} system calls for 500 records"
    writer.write_message(StateMessage(value={"bookmarks": {}}))
    lines = path.read_bytes().splitlines()
    assert len(lines) == 501 and lines[-1].startswith(b'{"type":"STATE"')
    output.flush()


def test_a_signal_during_a_write_acts_once_the_write_is_done(monkeypatch):
    """A SIGTERM handler run inside a buffered write (an interrupted system call) must not
    write into the same buffer then: its STATE follows the record being written."""
    from tap_auth0 import output

    out = Capture()
    monkeypatch.setattr(sys, "stdout", out)
    writer = BufferedMsgSpecWriter()
    events = []

    def handler() -> None:  # what TapAuth0.on_termination does
        def terminate() -> None:
            events.append("STATE")
            out.buffer.write(b"STATE\n")

        if output.after_write(terminate):
            terminate()

    class Interrupted(io.BytesIO):
        signalled = False

        def write(self, b):  # type: ignore[override]
            n = super().write(b)
            if not self.signalled:  # the signal arrives while this write is under way
                self.signalled = True
                handler()
                events.append("written")
            return n

    out.buffer = Interrupted()
    writer.write_record("users", RECORD, None, None)
    assert events == ["written", "STATE"]
    assert out.buffer.getvalue().endswith(b"}}\nSTATE\n")
    handler()  # nothing being written: at once
    assert events[-1] == "STATE" and not output._Guard.busy


def test_a_broken_pipe_stops_the_run_and_nothing_more_is_written(monkeypatch):
    """The target closed stdout: TargetStopped (exit 141), and no later message (a STATE
    from a finally block, the exit-time flush) tries to write again."""
    from singer_sdk.singerlib.messages import StateMessage

    from tap_auth0 import output
    from tap_auth0.errors import TargetStopped

    monkeypatch.setattr(output._Guard, "stopped", False)
    attempts = []

    class Closed(io.BytesIO):
        def write(self, b):  # type: ignore[override]
            attempts.append(bytes(b))
            raise BrokenPipeError(32, "Broken pipe")

    out = Capture()
    out.buffer = Closed()
    monkeypatch.setattr(sys, "stdout", out)
    writer = BufferedMsgSpecWriter()
    with pytest.raises(TargetStopped) as stopped:
        writer.write_record("users", RECORD, None, None)
    assert stopped.value.code == 141 and not output._Guard.busy
    writer.write_message(StateMessage(value={"bookmarks": {}}))
    writer.write_record("users", RECORD, None, None)
    output.flush()
    assert len(attempts) == 1
