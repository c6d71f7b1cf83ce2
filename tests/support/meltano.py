"""The repo's Meltano project, run against a sandbox with isolated state and outputs.

Meltano lives in ``.venv-meltano`` and its plugins in ``.meltano/`` (``make meltano``;
``make test`` does it first). Each runner gets its own Meltano system database (so its own
state) and its own DuckDB file / JSONL directory.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from auth0_sandbox import Sandbox, SandboxConfig

from tests.support.paths import ROOT

MELTANO = ROOT / ".venv-meltano" / "bin" / "meltano"
PLUGIN_VENVS = ROOT / ".meltano"
LOADER_PY = {
    "duckdb": PLUGIN_VENVS / "loaders" / "target-duckdb" / "venv" / "bin" / "python",
    "postgres": PLUGIN_VENVS / "loaders" / "target-postgres" / "venv" / "bin" / "python",
}
ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET = "T", "ID", "S"
USERS, SEED = 3000, 1
SANDBOX_TENANT = "sandbox"  # the `tenant` setting: a loopback domain does not name one
LOOKBACK_SECONDS = 300  # meltano.yml default of the tap's lookback_seconds
STATE_ID = "dev:tap-auth0-to-{loader}"
MELTANO_TIMEOUT = 600


def need_meltano() -> None:
    """Skip (fail under CI) unless Meltano and the plugins are installed."""
    missing = [
        p
        for p in (
            MELTANO,
            PLUGIN_VENVS / "extractors" / "tap-auth0" / "venv",
            *LOADER_PY.values(),
        )
        if not p.exists()
    ]
    if missing:
        msg = f"Meltano/plugins not installed ({missing[0]}): run `make meltano` (make test does)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


def project_select(*opt_in: str) -> str:
    """meltano.yml's `select` for tap-auth0 with the opt-in streams `opt_in` selected too, as
    a TAP_AUTH0__SELECT value: the project's run plus what a test reads beside it."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    (tap,) = (p for p in project["plugins"]["extractors"] if p["name"] == "tap-auth0")
    dropped = {f"!{name}.*" for name in opt_in}
    assert dropped <= set(tap["select"]), f"{opt_in} not left out by meltano.yml"
    return json.dumps([s for s in tap["select"] if s not in dropped])


@contextmanager
def e2e_sandbox() -> Iterator[Sandbox]:
    """The end-to-end tenant: USERS users, the runner's client credentials."""
    cfg = SandboxConfig(
        users=USERS,
        seed=SEED,
        access_token=ACCESS_TOKEN,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )
    with Sandbox(cfg) as sb:
        yield sb


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any tap, target or Meltano setting (so nothing
    from the developer's shell leaks into a run), offline and uncoloured; then `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TAP_AUTH0_", "TARGET_", "MELTANO_"))
    }
    env.update(
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        MELTANO_CLI_DISABLE_VERSION_CHECK="true",
        NO_COLOR="1",
    )
    env.update(extra)
    return env


class MeltanoRunner:
    """Runs the repo's Meltano project (or ``project``, a directory with its own
    meltano.yml) against one sandbox with isolated state/outputs."""

    def __init__(
        self, workdir: Path, base_url: str, tenant: str = SANDBOX_TENANT, project: Path = ROOT
    ) -> None:
        self.workdir = workdir
        self.project = project
        self.n = 0
        self.env = clean_env(
            **{
                "MELTANO_DATABASE_URI": f"sqlite:///{workdir / 'meltano.db'}",
                "MELTANO_CLI_LOG_FORMAT": "plain",
                "TAP_AUTH0_DOMAIN": base_url,
                "TAP_AUTH0_TENANT": tenant,
                "TAP_AUTH0_CLIENT_ID": CLIENT_ID,
                "TAP_AUTH0_CLIENT_SECRET": CLIENT_SECRET,
                "TAP_AUTH0_DUCKDB_PATH": str(workdir / "e2e.duckdb"),
                "TAP_AUTH0_JSONL_DIR": str(workdir / "jsonl"),
            }
        )

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        self.n += 1
        log = self.workdir / f"meltano-{self.n}-{args[0]}.log"
        proc = subprocess.run(
            [str(MELTANO), *args],
            cwd=self.project,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=MELTANO_TIMEOUT,
            check=False,
        )
        log.write_text(proc.stdout + proc.stderr)
        if check and proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-60:])
            pytest.fail(f"`meltano {' '.join(args)}` exited {proc.returncode}:\n{tail}")
        return proc

    def state(self, loader: str) -> dict:
        """The state of `meltano run tap-auth0 <loader>`."""
        return self.state_of(STATE_ID.format(loader=loader))

    def state_of(self, state_id: str) -> dict:
        proc = self("state", "get", state_id)
        start = proc.stdout.find("{")
        assert start >= 0, proc.stdout
        return json.loads(proc.stdout[start:].strip().splitlines()[0])
