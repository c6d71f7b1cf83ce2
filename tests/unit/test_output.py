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
