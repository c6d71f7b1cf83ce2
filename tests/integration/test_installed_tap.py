"""An installed `tap-auth0` console script syncs the sandbox with the default selection.

Which install: this venv's (editable, in the suite; resolved fresh by `make test-newest-sdk`),
or, with TAP_AUTH0_TEST_WHEEL_VENV set by `make test-wheel`, a fresh venv holding only the
wheel built from the repo and what pip resolved for it: the install users get from
`pip_url`. A file the package forgets to ship, or a dependency it forgets to declare, fails
there and nowhere else.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import tap_env, write_json
from tests.support.messages import parse, records
from tests.support.paths import ROOT
from tests.support.sandbox_instances import TOKEN, fresh_sandbox

WHEEL_VENV = os.environ.get("TAP_AUTH0_TEST_WHEEL_VENV")
BIN = (ROOT / WHEEL_VENV).resolve() / "bin" if WHEEL_VENV else Path(sys.executable).parent


def run_installed(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """A program of the venv under test, outside the repo (the checkout is not on its path)."""
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=tap_env(),
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_installed_tap_syncs_the_sandbox(tmp_path):
    with fresh_sandbox(users=150, seed=5) as sb:
        truth = {u["user_id"] for u in sb.truth()}
        config = write_json(
            tmp_path,
            "config.json",
            {"domain": sb.base_url, "tenant": "sandbox", "access_token": TOKEN},
        )
        proc = run_installed(["tap-auth0", "--config", str(config)], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    messages = parse(proc.stdout)
    assert {r["user_id"] for r in records(messages, "users")} == truth
    synced = {m["stream"] for m in messages if m["type"] == "RECORD"}
    assert {"users", "roles", "organizations", "clients", "connections"} <= synced
    assert messages[-1]["type"] == "STATE"


@pytest.mark.skipif(not WHEEL_VENV, reason="only for `make test-wheel`'s venv")
def test_the_wheel_venv_holds_the_built_wheel_and_nothing_of_the_checkout(tmp_path):
    probe = (
        "import importlib.metadata as m, importlib.util as u, json, tap_auth0\n"
        "d = m.distribution('tap-auth0-singer')\n"
        "print(json.dumps({'file': tap_auth0.__file__,"
        " 'direct_url': json.loads(d.read_text('direct_url.json') or '{}'),"
        " 'sandbox': u.find_spec('auth0_sandbox') is not None}))"
    )
    proc = run_installed(["python", "-c", probe], tmp_path)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    venv = BIN.parent
    assert Path(found["file"]).is_relative_to(venv), found["file"]
    assert found["direct_url"]["url"].endswith(".whl"), found["direct_url"]
    assert not found["direct_url"].get("dir_info", {}).get("editable"), found["direct_url"]
    assert not found["sandbox"], "the sandbox is installed in the wheel's venv"
