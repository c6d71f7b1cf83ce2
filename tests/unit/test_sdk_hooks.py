"""Pins what tap_auth0/sdk_hooks.py relies on in the Singer SDK's private internals.

If an SDK upgrade renames, re-signs or stops calling any of these, this fails here, naming
the member, instead of a sync quietly losing its fast path, its bookmarks or its final STATE.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import re
from contextlib import redirect_stdout
from datetime import datetime

import pytest
from singer_sdk import Stream, Tap
from singer_sdk.plugin_base import PluginBase

from tap_auth0 import sdk_hooks
from tap_auth0.streams import users as users_module
from tap_auth0.tap import TapAuth0
from tests.support.fake_search import FakeSearch, make_users
from tests.support.mock_api import DOMAIN, mount_search
from tests.support.tap import catalog_selecting

STREAM_PRIVATE_METHODS = [
    m for m in sdk_hooks.STREAM_PRIVATE if m not in ("_stream_version", "_tap")
]
# The SDK's `_sync_records` that `StreamHooks._sync_records` mirrors for the common case: a
# new SDK version that changes it must be read and the lean loop brought in line.
SDK_SYNC_RECORDS_SHA256 = "8928dc7f50e9bf57cc98734b30e3953b0e19007f85fe020a0c80ccdbcf5d329f"


@pytest.mark.parametrize("member", STREAM_PRIVATE_METHODS)
def test_stream_private_methods_exist(member):
    assert callable(getattr(Stream, member, None)), f"singer_sdk Stream.{member} is gone"


def test_stream_private_signatures():
    assert list(inspect.signature(Stream._write_record_message).parameters) == ["self", "record"]
    params = inspect.signature(Stream._increment_stream_state).parameters
    assert list(params) == ["self", "latest_record", "context"]
    assert params["context"].kind is inspect.Parameter.KEYWORD_ONLY
    assert list(inspect.signature(Stream._write_schema_message).parameters) == ["self"]
    assert list(inspect.signature(Stream._write_activate_version_message).parameters) == [
        "self",
        "full_table_version",
    ]


def test_stream_sync_loop_private_signatures():
    """What the lean loop (StreamHooks._sync_records) calls, with the arguments it passes."""
    params = inspect.signature(Stream._sync_records).parameters
    assert list(params) == ["self", "context", "write_messages"]
    assert params["write_messages"].kind is inspect.Parameter.KEYWORD_ONLY
    assert list(inspect.signature(Stream._process_record).parameters) == [
        "self",
        "record",
        "child_context",
        "partition_context",
    ]
    for name in ("_get_state_partition_context", "_write_starting_replication_value"):
        assert list(inspect.signature(getattr(Stream, name)).parameters) == ["self", "context"]
    assert list(inspect.signature(Stream._finalize_state).parameters) == ["self", "state"]
    assert list(inspect.signature(Stream._write_state_message).parameters) == ["self"]


def test_sdk_sync_loop_is_the_one_the_lean_loop_mirrors():
    source = inspect.getsource(Stream._sync_records)
    digest = hashlib.sha256(source.encode()).hexdigest()
    assert digest == SDK_SYNC_RECORDS_SHA256, (
        "singer_sdk Stream._sync_records changed: compare it with StreamHooks._sync_records "
        "(tap_auth0/sdk_hooks.py), align the lean loop, then update SDK_SYNC_RECORDS_SHA256"
    )


SIGNPOST = re.compile(r'"replication_key_signpost":"[^"]*"')


class _Frozen(datetime):
    """`datetime.now` at a fixed instant: two runs then write comparable bytes."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=tz)


def _stdout_of(config: dict, catalog: dict, state: dict | None) -> str:
    """The run's stdout; the signpost (when the stream object was made) set to one value."""
    buf = io.StringIO()
    tap = TapAuth0(config=config, catalog=catalog, state=state)
    with redirect_stdout(buf):
        tap.sync_all()
    return SIGNPOST.sub('"replication_key_signpost":"-"', buf.getvalue())


def _in_order(stdout: str) -> tuple[list[str], list[str]]:
    """Every line in order, but user_detail's RECORDs (from worker threads, in no fixed
    order between runs) apart and sorted."""
    detail = '{"type":"RECORD","stream":"user_detail"'
    lines = stdout.splitlines()
    return (
        [x for x in lines if not x.startswith(detail)],
        sorted(x for x in lines if x.startswith(detail)),
    )


@pytest.mark.parametrize("streams", [{"users"}, {"users", "user_detail"}])
@pytest.mark.parametrize("bookmark", [None, "2024-06-01T12:00:00.000Z"])
def test_lean_sync_loop_writes_the_bytes_of_the_sdk_loop(
    requests_mock, monkeypatch, streams, bookmark
):
    """The same tenant through the lean loop and through the SDK's own: the same RECORD,
    STATE (every 1,000 users and the last) and other lines, byte for byte."""
    mount_search(requests_mock, FakeSearch(make_users(2345, tie=150)))
    monkeypatch.setattr(users_module, "datetime", _Frozen)
    monkeypatch.setattr(sdk_hooks, "datetime", _Frozen)
    config = {"domain": DOMAIN, "access_token": "tok"}
    catalog = catalog_selecting(config, streams)
    state = None
    if bookmark:
        rk = {"replication_key": "updated_at", "replication_key_value": bookmark}
        state = {"bookmarks": {"users": rk}}
    lean = _stdout_of(config, catalog, state)
    monkeypatch.setattr(sdk_hooks.StreamHooks, "_sync_records", Stream._sync_records)
    sdk = _stdout_of(config, catalog, state)
    assert _in_order(lean) == _in_order(sdk)
    assert lean.count('{"type":"RECORD","stream":"users"') >= 150
    assert lean.count('{"type":"STATE"') >= 2


def test_stream_sync_loop_calls_the_hooks():
    """`_sync_records` writes through `_write_record_message`, bookmarks through
    `_increment_stream_state`, and asks `generate_child_contexts` for child syncs."""
    source = inspect.getsource(Stream._sync_records)
    assert "self._write_record_message(record)" in source
    assert "self._increment_stream_state(record, context=" in source
    assert "generate_child_contexts" in inspect.getsource(Stream._process_record)
    init = inspect.getsource(Stream.__init__)
    assert "self._stream_version" in init and "self._tap = tap" in init


def test_tap_private_hooks():
    assert "_validate_config" in inspect.getsource(PluginBase.__init__)
    params = inspect.signature(PluginBase._validate_config).parameters
    assert list(params) == ["self", "raise_errors"]
    assert params["raise_errors"].kind is inspect.Parameter.KEYWORD_ONLY
    assert list(inspect.signature(Tap._handle_termination).parameters) == [
        "self",
        "signum",
        "frame",
    ]
    assert "self._handle_termination" in inspect.getsource(PluginBase._setup_signal_handlers)
    assert "_config" in inspect.getsource(PluginBase.__init__)


def test_no_other_module_touches_sdk_privates():
    """Every private SDK member the tap uses is named in sdk_hooks.py, and only there."""
    from pathlib import Path

    import tap_auth0

    root = Path(tap_auth0.__file__).parent
    names = (*sdk_hooks.STREAM_PRIVATE, *sdk_hooks.TAP_PRIVATE, "_sync_children")
    for path in root.rglob("*.py"):
        if path.name == "sdk_hooks.py":
            continue
        text = path.read_text()
        for name in names:
            assert f".{name}" not in text and f"def {name}(" not in text, (
                f"{path.relative_to(root)} uses the SDK's private {name}: move it to sdk_hooks.py"
            )
