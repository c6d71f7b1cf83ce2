"""Pins what tap_auth0/sdk_hooks.py relies on in the Singer SDK's private internals.

If an SDK upgrade renames, re-signs or stops calling any of these, this fails here, naming
the member, instead of a sync quietly losing its fast path, its bookmarks or its final STATE.
"""

from __future__ import annotations

import inspect

import pytest
from singer_sdk import Stream, Tap
from singer_sdk.plugin_base import PluginBase

from tap_auth0 import sdk_hooks


@pytest.mark.parametrize("member", [m for m in sdk_hooks.STREAM_PRIVATE if m.startswith("_w")])
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
