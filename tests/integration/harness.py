"""Run the tap against a live sandbox, in-process or as the real console script."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import typing as t
from contextlib import redirect_stdout
from pathlib import Path

from tap_auth0.tap import TapAuth0

TAP_BIN = str(Path(sys.executable).with_name("tap-auth0"))


def run_inprocess(
    config: dict[str, t.Any], state: dict | None = None, catalog: dict | None = None
) -> list[dict[str, t.Any]]:
    buf = io.StringIO()
    tap = TapAuth0(config=config, state=state, catalog=catalog)
    with redirect_stdout(buf):
        tap.sync_all()
    return [json.loads(line) for line in buf.getvalue().splitlines() if line.strip()]


def run_cli(
    config: dict[str, t.Any],
    *args: str,
    state: dict | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp, "config.json")
        cfg.write_text(json.dumps(config))
        cmd = [TAP_BIN, "--config", str(cfg), *args]
        if state is not None:
            st = Path(tmp, "state.json")
            st.write_text(json.dumps(state))
            cmd += ["--state", str(st)]
        return subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )


def parse(stdout: str) -> list[dict[str, t.Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def records(messages: list[dict], stream: str) -> list[dict]:
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


def last_state(messages: list[dict]) -> dict:
    return [m["value"] for m in messages if m["type"] == "STATE"][-1]


def catalog_selecting(config: dict[str, t.Any], streams: set[str]) -> dict:
    catalog = TapAuth0(config=config).catalog_dict
    for entry in catalog["streams"]:
        for md in entry["metadata"]:
            if md["breadcrumb"] == []:
                md["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog
