"""Every capability the tap advertises, through the real console script against the sandbox:
each RECORD (and each record of a BATCH file) fits the latest SCHEMA of its stream, and the
tap's fast path writes the same records as the SDK's own path (TAP_AUTH0_SDK_OVERRIDES=off).

Fits means: no key the SCHEMA lacks, and no nested object where the SCHEMA has no object
(flattening turns `location_info` into `location_info__country_code`…)."""

from __future__ import annotations

import copy
import gzip
import json
import re
import typing as t
from collections import Counter
from pathlib import Path

import pytest

from tap_auth0.sdk_hooks import SWITCH
from tests.support.cli import run_cli
from tests.support.messages import parse
from tests.support.sandbox_instances import TOKEN, fresh_sandbox
from tests.support.tap import catalog_selecting

# Top-level streams, a fan-out child of each of two parents, and their parents.
STREAMS = {"users", "logs", "clients", "roles", "role_members", "organizations"}
STREAMS |= {"organization_members"}
PATHS = {"fast": {}, "sdk": {SWITCH: "off"}}
FLAT = {"flattening_enabled": True, "flattening_max_depth": 1}
HEX32 = re.compile(r"^[0-9a-f]{32}$")
MAPS = {
    # hash, drop and filter
    "users": {
        "name": "md5(name)",
        "picture": None,
        "__filter__": "not user_id.startswith('google-oauth2|')",
    },
    "logs": {"__alias__": "auth0_logs", "ip": None},  # alias
    "clients": {"description": None, "name": "md5(name)"},
    "role_members": {"email": "md5(record.get('email') or '')"},  # a fan-out child
    "organization_members": {"picture": None},
}
# Deselected in the catalog: (stream, property).
DESELECTED = [
    ("users", "email"),
    ("logs", "location_info"),
    ("clients", "callbacks"),
    ("role_members", "email"),
    ("organization_members", "picture"),
]


@pytest.fixture(scope="module")
def sandbox():
    with fresh_sandbox(users=300, seed=11, logs=300, log_days=3) as sb:
        yield sb


def base_config(sb: t.Any, **extra: t.Any) -> dict[str, t.Any]:
    return {
        "domain": sb.base_url,
        "tenant": "sandbox",
        "access_token": TOKEN,
        "start_date": "2020-01-01T00:00:00Z",
        **extra,
    }


def deselect(catalog: dict, pairs: list[tuple[str, str]]) -> dict:
    catalog = copy.deepcopy(catalog)
    for entry in catalog["streams"]:
        for md in entry["metadata"]:
            if tuple(md["breadcrumb"]) in {
                ("properties", prop) for stream, prop in pairs if stream == entry["tap_stream_id"]
            }:
                md["metadata"]["selected"] = False
    return catalog


def is_object(prop: dict) -> bool:
    kind = prop.get("type", [])
    return "object" in (kind if isinstance(kind, list) else [kind])


def misfits(msgs: list[dict], batch_records: dict[str, list[dict]]) -> list[str]:
    """Every RECORD (and BATCH file record) that does not fit the latest SCHEMA of its
    stream, named with the offending key."""
    schemas: dict[str, dict] = {}
    bad = []

    def check(stream: str, record: dict) -> None:
        props = schemas[stream].get("properties", {})
        for key, value in record.items():
            if key not in props:
                bad.append(f"{stream}: {key} not in its SCHEMA")
            elif isinstance(value, dict) and not is_object(props[key]):
                bad.append(f"{stream}: {key} is an object, its SCHEMA says {props[key]}")

    for msg in msgs:
        if msg["type"] == "SCHEMA":
            schemas[msg["stream"]] = msg["schema"]
        elif msg["type"] == "RECORD":
            check(msg["stream"], msg["record"])
        elif msg["type"] == "BATCH":
            for record in batch_records[msg["stream"]]:
                check(msg["stream"], record)
    return sorted(set(bad))


def run(config: dict, catalog: dict, path: str) -> tuple[list[dict], dict[str, list[dict]], str]:
    proc = run_cli(config, catalog=catalog, env=PATHS[path])
    assert proc.returncode == 0, proc.stderr[-3000:]
    msgs = parse(proc.stdout)
    files: dict[str, list[dict]] = {}
    for msg in msgs:
        if msg["type"] == "BATCH":
            rows = files.setdefault(msg["stream"], [])
            for url in msg["manifest"]:
                with gzip.open(url.removeprefix("file://"), "rt") as fh:
                    rows += [json.loads(line) for line in fh]
    return msgs, files, proc.stderr


def records_by_stream(msgs: list[dict], files: dict[str, list[dict]]) -> dict[str, Counter]:
    """Per stream, its records (RECORD messages and BATCH files) as a multiset."""
    out: dict[str, Counter] = {}
    for msg in msgs:
        if msg["type"] == "RECORD":
            out.setdefault(msg["stream"], Counter())[json.dumps(msg["record"], sort_keys=True)] += 1
    for stream, rows in files.items():
        out.setdefault(stream, Counter()).update(json.dumps(r, sort_keys=True) for r in rows)
    return out


def both_paths(config: dict, catalog: dict) -> dict[str, list[dict]]:
    """Run the fast path and the SDK's path: each fits, both write the same records.
    Returns the fast path's records per stream (RECORD messages and BATCH files)."""
    got = {}
    for path in PATHS:
        msgs, files, stderr = run(config, catalog, path)
        batched = {m["stream"] for m in msgs if m["type"] == "BATCH"}
        # With batch_config every top-level stream batches; fan-out children write RECORDs.
        top = STREAMS - {"role_members", "organization_members"}
        assert batched == set(files) == (top if "batch_config" in config else set())
        assert misfits(msgs, files) == [], path
        off = f"{SWITCH}=off: the Singer SDK's own sync code runs"
        assert (off in stderr) == (path == "sdk")
        assert "Running the Singer SDK's own sync code instead" not in stderr
        got[path] = records_by_stream(msgs, files)
    assert got["fast"] == got["sdk"]
    return {
        stream: [json.loads(r) for r in rows.elements()] for stream, rows in got["fast"].items()
    }


def test_no_capability_records_fit_and_no_child_stream_info_lines(sandbox):
    """The baseline, and: the SDK's "Added 'x' as child stream" lines are DEBUG now."""
    config = base_config(sandbox)
    proc = run_cli(config, catalog=catalog_selecting(config, STREAMS))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "as child stream" not in proc.stderr
    assert misfits(parse(proc.stdout), {}) == []


def test_flattening(sandbox):
    config = base_config(sandbox, **FLAT)
    got = both_paths(config, catalog_selecting(config, STREAMS))
    assert set(got) >= STREAMS
    logs = got["logs"]
    assert not any("location_info" in r for r in logs)
    assert any("location_info__country_code" in r for r in logs)
    # An open object (no declared properties) is one JSON column.
    assert all(isinstance(json.loads(r["jwt_configuration"]), dict) for r in got["clients"])
    assert all(not isinstance(v, dict) for rows in got.values() for r in rows for v in r.values())


def test_stream_maps_hash_drop_alias_filter(sandbox):
    config = base_config(sandbox, stream_maps=MAPS)
    got = both_paths(config, catalog_selecting(config, STREAMS))
    users = got["users"]
    assert users and len(users) < 300  # filtered
    assert not any(u["user_id"].startswith("google-oauth2|") for u in users)
    assert all(HEX32.match(u["name"]) and "picture" not in u for u in users)
    assert "logs" not in got and got["auth0_logs"]
    assert not any("ip" in r for r in got["auth0_logs"])
    assert all(HEX32.match(c["name"]) and "description" not in c for c in got["clients"])
    assert all(HEX32.match(m["email"]) for m in got["role_members"])
    assert got["organization_members"]
    assert not any("picture" in m for m in got["organization_members"])


def test_stream_maps_with_flattening(sandbox):
    config = base_config(sandbox, stream_maps=MAPS, **FLAT)
    got = both_paths(config, catalog_selecting(config, STREAMS))
    assert any("location_info__city_name" in r for r in got["auth0_logs"])
    assert all(HEX32.match(u["name"]) for u in got["users"])


def test_property_deselection(sandbox):
    config = base_config(sandbox)
    catalog = deselect(catalog_selecting(config, STREAMS), DESELECTED)
    got = both_paths(config, catalog)
    for stream, prop in DESELECTED:
        assert got[stream], stream
        assert not any(prop in r for r in got[stream]), (stream, prop)


def test_batch_files_hold_what_a_record_would(sandbox, tmp_path: Path):
    """BATCH with flattening and a deselected property: the files' records fit the
    flattened SCHEMA and lack the property (the SDK's own batches held the raw records)."""
    config = base_config(
        sandbox,
        batch_config={
            "encoding": {"format": "jsonl", "compression": "gzip"},
            "storage": {"root": f"file://{tmp_path}", "prefix": "b-"},
        },
        **FLAT,
    )
    catalog = deselect(catalog_selecting(config, STREAMS), [("users", "email")])
    got = both_paths(config, catalog)
    assert len(got["users"]) == 300
    assert not any("email" in u for u in got["users"])
    assert any("location_info__country_code" in r for r in got["logs"])
    assert not any("location_info" in r for r in got["logs"])
    assert got["role_members"]  # fan-out children: RECORD messages


def comparable(stdout: str) -> dict[str, list[str]]:
    """Each stream's lines in order, and the STATE lines in order (how a fan-out child's
    lines interleave with its parent's varies run to run), without what the clock sets:
    time_extracted, table versions, the signpost, change capture's run instants."""
    out: dict[str, list[str]] = {}
    for msg in parse(stdout):
        msg.pop("time_extracted", None)
        if "version" in msg:
            msg["version"] = "-"
        text = json.dumps(msg, sort_keys=True)
        text = re.sub(r'"replication_key_signpost": "[^"]*"', '"-"', text)
        cc = re.search(r'"change_capture": \{[^{}]*\}', text)
        if cc:  # its checkpoint and full-pass mark are the run's start
            text = text.replace(cc.group(0), '"change_capture": "-"')
        out.setdefault(msg.get("stream", msg["type"]), []).append(text)
    return out


@pytest.mark.parametrize("switch", ["sync_records", "write_record", "on"])
def test_each_override_writes_every_line_the_sdk_writes(sandbox, switch):
    """Each override alone, and all: the same RECORD, STATE, SCHEMA and ACTIVATE_VERSION
    lines as the SDK's own code, for a bookmarked stream (logs), full tables and a fan-out
    (users, whose bookmark comes from the clock, are compared byte for byte in
    tests/unit/test_sdk_hooks.py)."""
    config = base_config(sandbox)
    catalog = catalog_selecting(config, {"logs", "clients", "roles", "role_members"})
    lines = {}
    for value in ("off", switch):
        proc = run_cli(config, catalog=catalog, env={SWITCH: value})
        assert proc.returncode == 0, proc.stderr[-3000:]
        lines[value] = comparable(proc.stdout)
    assert lines[switch] == lines["off"]
    assert len(lines["off"]["STATE"]) >= 2 and len(lines["off"]["logs"]) > 300
    assert lines["off"]["role_members"]


def test_batching_a_stream_the_maps_copy_is_a_config_error(sandbox, tmp_path: Path):
    """A batch file holds one shape: the SDK would hand `users` and its copy the same raw
    file. One line naming the settings, exit 2, nothing written."""
    config = base_config(
        sandbox,
        stream_maps={"users_copy": {"__source__": "users"}},
        batch_config={
            "encoding": {"format": "jsonl", "compression": "gzip"},
            "storage": {"root": f"file://{tmp_path}", "prefix": "b-"},
        },
    )
    proc = run_cli(config, catalog=catalog_selecting(config, {"users"}))
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        "tap-auth0: error: Setting 'batch_config' cannot batch a stream that 'stream_maps' "
        "copies into several streams (users): remove the copy or batch_config"
    )
