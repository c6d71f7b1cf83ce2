"""Pins what tap_auth0/sdk_hooks.py relies on in the Singer SDK's private internals.

If an SDK upgrade renames, re-signs or stops calling any of these, this fails here, naming
the member, instead of a sync quietly losing its fast path, its bookmarks or its final STATE.
"""

from __future__ import annotations

import functools
import inspect
import io
import logging
import re
from collections import Counter
from contextlib import redirect_stdout
from datetime import datetime, timezone

import pytest
from singer_sdk import Stream, Tap
from singer_sdk.plugin_base import PluginBase

from tap_auth0 import sdk_hooks
from tap_auth0.changes import capture as capture_module
from tap_auth0.errors import ConfigError
from tap_auth0.streams.users import stream as users_module
from tap_auth0.tap import TapAuth0
from tests.support.fake_search import FakeSearch, make_users
from tests.support.mock_api import DOMAIN, mount_search
from tests.support.mock_tenant import Tenant, mount_tenant
from tests.support.tap import catalog_selecting
from tests.unit.test_logs import events, log_id

STREAM_PRIVATE_METHODS = [
    m for m in sdk_hooks.STREAM_PRIVATE if m not in ("_stream_version", "_tap")
]


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


def test_the_installed_sdk_is_one_the_overrides_were_proven_on():
    """The pin the run-time check uses: a new SDK version whose mirrored code changed must
    be read, each override brought in line, then SDK_SOURCE_SHA256 and
    PROVEN_SDK_VERSIONS updated (until then, runs use the SDK's own code)."""
    assert sdk_hooks.installed_sdk_version() in sdk_hooks.PROVEN_SDK_VERSIONS
    assert sdk_hooks.source_digests() == sdk_hooks.SDK_SOURCE_SHA256, (
        "singer_sdk code an override mirrors changed: compare it with tap_auth0/sdk_hooks.py, "
        "align the override, then update SDK_SOURCE_SHA256"
    )
    assert set(sdk_hooks.SDK_SOURCE_SHA256) == set(sdk_hooks.OVERRIDES)
    assert sdk_hooks.unproven_because(sdk_hooks.installed_sdk_version()) is None


SIGNPOST = re.compile(r'"replication_key_signpost":"[^"]*"')


class _Frozen(datetime):
    """`datetime.now` at a fixed instant: two runs then write comparable bytes."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=tz)


def _stdout_of(
    config: dict, catalog: dict, state: dict | None, *, tap: TapAuth0 | None = None
) -> str:
    """The run's stdout; the signpost (when the stream object was made) set to one value."""
    buf = io.StringIO()
    tap = tap or TapAuth0(config=config, catalog=catalog, state=state)
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
    requests_mock, monkeypatch, frozen_clock, streams, bookmark
):
    """The same tenant through the lean loop and through the SDK's own: the same RECORD,
    STATE (every 1,000 users and the last) and other lines, byte for byte."""
    mount_search(requests_mock, FakeSearch(make_users(2345, tie=150)))
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


@pytest.mark.parametrize("bookmark", [None, 700])
def test_lean_sync_loop_sets_the_bookmark_the_sdk_sets(
    requests_mock, monkeypatch, frozen_clock, bookmark
):
    """logs, whose sorted bookmark the lean loop sets in place: the same RECORD and STATE
    lines (every 500 events and the last) as the SDK's loop and its bookmark update."""
    tenant = Tenant(logs=events(1, 2345, late_every=37))
    mount_tenant(requests_mock, tenant)
    config = {"domain": DOMAIN, "access_token": "tok"}
    catalog = catalog_selecting(config, {"logs"})
    state = None
    if bookmark:
        rk = {"replication_key": "log_id", "replication_key_value": log_id(bookmark)}
        state = {"bookmarks": {"logs": rk}}
    lean = _stdout_of(config, catalog, state)
    monkeypatch.setattr(sdk_hooks.StreamHooks, "_sync_records", Stream._sync_records)
    sdk = _stdout_of(config, catalog, state)
    assert lean == sdk
    assert lean.count('{"type":"RECORD","stream":"logs"') == 2345 - (bookmark or 0)
    assert lean.count('{"type":"STATE"') >= 4
    assert f'"replication_key_value":"{log_id(2345)}"' in lean.splitlines()[-1]


FROZEN = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
# The SDK's own code each override stands in for: (override, owner, member).
SDK_CODE = [
    ("sync_records", Stream, "_sync_records"),
    ("write_record", Stream, "_generate_record_messages"),
]


@pytest.fixture
def frozen_clock(monkeypatch):
    """Both record paths stamp time_extracted at one instant."""
    monkeypatch.setattr(users_module, "datetime", _Frozen)
    monkeypatch.setattr(sdk_hooks, "datetime", _Frozen)
    monkeypatch.setattr(capture_module, "datetime", _Frozen)
    monkeypatch.setattr("singer_sdk.streams.core.utc_now", lambda: FROZEN)


@pytest.fixture
def fresh_check(monkeypatch):
    """The run-time check computed anew (it is cached per process), without the switch."""
    monkeypatch.delenv(sdk_hooks.SWITCH, raising=False)
    sdk_hooks.unproven_because.cache_clear()
    yield
    sdk_hooks.unproven_because.cache_clear()


def count_sdk_calls(monkeypatch) -> Counter:
    """Calls of the SDK code each override replaces (wrapped: its source stays readable)."""
    calls: Counter = Counter()
    for name, owner, member in SDK_CODE:
        original = getattr(owner, member)

        def counted(*args, __original=original, __name=name, **kwargs):
            calls[__name] += 1
            return __original(*args, **kwargs)

        monkeypatch.setattr(owner, member, functools.wraps(original)(counted))
    return calls


def _tenant(requests_mock, users: int = 700) -> tuple[dict, dict]:
    mount_search(requests_mock, FakeSearch(make_users(users, tie=40)))
    config = {"domain": DOMAIN, "access_token": "tok"}
    return config, catalog_selecting(config, {"users"})


def _sdk_path(monkeypatch, config: dict, catalog: dict) -> str:
    monkeypatch.setenv(sdk_hooks.SWITCH, "off")
    try:
        return _stdout_of(config, catalog, None)
    finally:
        monkeypatch.delenv(sdk_hooks.SWITCH)


def test_a_proven_sdk_runs_every_override_and_says_nothing(
    requests_mock, monkeypatch, caplog, fresh_check
):
    config, catalog = _tenant(requests_mock)
    calls = count_sdk_calls(monkeypatch)
    caplog.set_level(logging.INFO)
    tap = TapAuth0(config=config, catalog=catalog)
    out = _stdout_of(config, catalog, None, tap=tap)
    assert out.count('"type":"RECORD"') == 700
    assert calls["write_record"] == calls["sync_records"] == 0
    assert tap.sdk_overrides == frozenset(sdk_hooks.OVERRIDES)
    assert not [r for r in caplog.records if "sync code" in r.getMessage()]


@pytest.mark.parametrize("unproven", ["version", "source"])
def test_an_unproven_sdk_runs_the_sdks_own_code_and_says_so_once(
    requests_mock, monkeypatch, caplog, fresh_check, frozen_clock, unproven
):
    """An SDK version the pin did not prove, or SDK code that no longer hashes as proven:
    every override steps aside (the run writes what the SDK's path writes, byte for byte,
    through the SDK's own code) and one WARNING says why."""
    config, catalog = _tenant(requests_mock)
    sdk = _sdk_path(monkeypatch, config, catalog)
    if unproven == "version":
        monkeypatch.setattr(sdk_hooks, "installed_sdk_version", lambda: "0.54.99")
        why = "singer-sdk 0.54.99 is not a version they were proven on (0.54.2 to 0.54.9)"
    else:
        monkeypatch.setitem(sdk_hooks.SDK_SOURCE_SHA256, "write_record", "0" * 64)
        why = "the SDK code they mirror differs from the proven one (write_record)"
    calls = count_sdk_calls(monkeypatch)
    caplog.set_level(logging.INFO)
    tap = TapAuth0(config=config, catalog=catalog)
    out = _stdout_of(config, catalog, None, tap=tap)
    assert out == sdk
    assert calls["sync_records"] == 1 and calls["write_record"] == 700
    assert tap.sdk_overrides == frozenset()
    said = [r for r in caplog.records if "sync code" in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.WARNING
    assert said[0].getMessage() == (
        "Running the Singer SDK's own sync code instead of the tap's faster copies: " + why
    )


@pytest.mark.parametrize(
    "switch",
    ["on", "sync_records", "write_record"],
)
def test_each_override_writes_the_bytes_of_the_sdks_code(
    requests_mock, monkeypatch, fresh_check, frozen_clock, switch
):
    """Each override alone, and all of them, against none (the SDK's own code): the same
    RECORD, STATE and other lines, from a bookmark, with the per-user child too."""
    mount_search(requests_mock, FakeSearch(make_users(1500, tie=120)))
    config = {"domain": DOMAIN, "access_token": "tok"}
    catalog = catalog_selecting(config, {"users", "user_detail"})
    rk = {"replication_key": "updated_at", "replication_key_value": "2024-06-01T12:00:00.000Z"}
    state = {"bookmarks": {"users": rk}}
    monkeypatch.setenv(sdk_hooks.SWITCH, "off")
    sdk = _stdout_of(config, catalog, state)
    monkeypatch.setenv(sdk_hooks.SWITCH, switch)
    ours = _stdout_of(config, catalog, state)
    assert _in_order(ours) == _in_order(sdk)
    assert sdk.count('"type":"STATE"') >= 2 and sdk.count('"stream":"user_detail"') >= 100


@pytest.mark.parametrize(
    ("value", "on"),
    [
        (None, set(sdk_hooks.OVERRIDES)),
        ("ON", set(sdk_hooks.OVERRIDES)),
        ("off", set()),
        ("none", set()),
        ("write_record, sync_records", {"write_record", "sync_records"}),
    ],
)
def test_the_switch(value, on):
    assert sdk_hooks.parse_switch(value) == on


def test_a_misspelt_switch_stops_the_run_naming_it(monkeypatch, requests_mock):
    config, catalog = _tenant(requests_mock, 10)
    monkeypatch.setenv(sdk_hooks.SWITCH, "write_records")
    with pytest.raises(ConfigError, match=r"TAP_AUTH0_SDK_OVERRIDES='write_records': unknown"):
        _stdout_of(config, catalog, None)


def test_child_stream_lines_are_debug(caplog):
    """The SDK logs "Added 'x' as child stream to 'y'" at INFO on every run: DEBUG here."""
    assert sdk_hooks.CHILD_STREAM_LINE in inspect.getsource(Tap.load_streams)
    config = {"domain": DOMAIN, "access_token": "tok"}
    caplog.set_level(logging.INFO)
    assert TapAuth0(config=config).streams
    assert not [r for r in caplog.records if "as child stream" in r.getMessage()]
    caplog.set_level(logging.DEBUG, logger="tap-auth0")
    assert TapAuth0(config=config).streams
    lines = [r for r in caplog.records if "as child stream" in r.getMessage()]
    assert lines and {r.levelno for r in lines} == {logging.DEBUG}


def test_setup_mapper_is_what_tap_hooks_repeats():
    """TapHooks.setup_mapper (with flattening) does what the SDK's does, with other schemas."""
    source = inspect.getsource(Tap.setup_mapper)
    assert "super().setup_mapper()" in source
    assert "self.mapper.register_raw_streams_from_catalog(self.catalog)" in source
    assert "self._mapper = PluginMapper(" in inspect.getsource(PluginBase.setup_mapper)


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
