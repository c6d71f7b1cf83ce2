"""End-to-end fixtures: in-process Auth0 sandbox -> tap-auth0 -> Meltano -> a real loader.

Meltano lives in ``.venv-meltano`` and its plugins in ``.meltano/`` (``make meltano``;
``make test`` does it first). Every test gets its own Meltano system database (so its
own state), its own DuckDB file / PostgreSQL schema, and a fresh sandbox.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
MELTANO = ROOT / ".venv-meltano" / "bin" / "meltano"
PLUGIN_VENVS = ROOT / ".meltano"
DBQUERY = ROOT / "scripts" / "dbquery.py"
LOADER_PY = {
    "duckdb": PLUGIN_VENVS / "loaders" / "target-duckdb" / "venv" / "bin" / "python",
    "postgres": PLUGIN_VENVS / "loaders" / "target-postgres" / "venv" / "bin" / "python",
}
ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET = "T", "ID", "S"
USERS, SEED = 3000, 1
LOOKBACK_SECONDS = 300  # meltano.yml default of the tap's lookback_seconds
STATE_ID = "dev:tap-auth0-to-{loader}"
MELTANO_TIMEOUT = 600


def _need_meltano() -> None:
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


@pytest.fixture
def sandbox() -> Iterator[Any]:
    from auth0_sandbox import Sandbox, SandboxConfig

    cfg = SandboxConfig(
        users=USERS,
        seed=SEED,
        access_token=ACCESS_TOKEN,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )
    with Sandbox(cfg) as sb:
        yield sb


class MeltanoRunner:
    """Runs the repo's Meltano project against one sandbox with isolated state/outputs."""

    def __init__(self, workdir: Path, base_url: str) -> None:
        self.workdir = workdir
        self.n = 0
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TAP_AUTH0_", "TARGET_", "MELTANO_"))
        }
        self.env = {
            **inherited,
            "MELTANO_DATABASE_URI": f"sqlite:///{workdir / 'meltano.db'}",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
            "MELTANO_CLI_LOG_FORMAT": "plain",
            "NO_COLOR": "1",
            "TAP_AUTH0_DOMAIN": base_url,
            "TAP_AUTH0_CLIENT_ID": CLIENT_ID,
            "TAP_AUTH0_CLIENT_SECRET": CLIENT_SECRET,
            "TAP_AUTH0_DUCKDB_PATH": str(workdir / "e2e.duckdb"),
            "TAP_AUTH0_JSONL_DIR": str(workdir / "jsonl"),
            "TARGET_DUCKDB_ADD_METADATA_COLUMNS": "true",
        }

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        self.n += 1
        log = self.workdir / f"meltano-{self.n}-{args[0]}.log"
        proc = subprocess.run(
            [str(MELTANO), *args],
            cwd=ROOT,
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
        proc = self("state", "get", STATE_ID.format(loader=loader))
        start = proc.stdout.find("{")
        assert start >= 0, proc.stdout
        return json.loads(proc.stdout[start:].strip().splitlines()[0])


@pytest.fixture
def meltano(sandbox: Any, tmp_path: Path) -> MeltanoRunner:
    _need_meltano()
    return MeltanoRunner(tmp_path, sandbox.base_url)


def query(kind: str, target: str, *sql: str) -> list[list[dict[str, Any]]]:
    """Rows (as dicts) per statement, read with the loader plugin's own driver."""
    proc = subprocess.run(
        [str(LOADER_PY[kind]), str(DBQUERY), kind, target],
        input=json.dumps(list(sql)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return [
        [dict(zip(r["columns"], row, strict=True)) for row in r["rows"]]
        for r in json.loads(proc.stdout)
    ]


# -- PostgreSQL -------------------------------------------------------------------------
def _load_pgtemp() -> Any:
    spec = importlib.util.spec_from_file_location("pgtemp", ROOT / "scripts" / "pgtemp.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def pg_uri() -> Iterator[str]:
    """TAP_AUTH0_TEST_PG_URI (set by .ci/run), else a throw-away local cluster, else skip."""
    uri = os.environ.get("TAP_AUTH0_TEST_PG_URI")
    if uri:
        yield uri
        return
    pgtemp = _load_pgtemp()
    if pgtemp.find_pg_bindir() is None:
        if pgtemp.port_open("127.0.0.1", 5432):
            yield "postgresql://postgres@127.0.0.1:5432/postgres"
            return
        pytest.skip(
            "no PostgreSQL: TAP_AUTH0_TEST_PG_URI is unset, no server binaries (initdb/pg_ctl)"
            " to start one, and nothing listens on 127.0.0.1:5432"
            " (apt-get install postgresql, or run .ci/run)"
        )
    datadir = tempfile.mkdtemp(prefix="tap-auth0-e2e-pg-")
    pg = pgtemp.TempPostgres(datadir)
    try:
        pg.start()
    except Exception as exc:  # noqa: BLE001
        shutil.rmtree(datadir, ignore_errors=True)
        pytest.skip(f"could not start a local PostgreSQL cluster: {exc}")
    try:
        yield pg.uri
    finally:
        pg.stop()
        shutil.rmtree(datadir, ignore_errors=True)


@pytest.fixture
def pg_schema(pg_uri: str) -> Iterator[str]:
    schema = f"auth0_e2e_{uuid.uuid4().hex[:8]}"
    yield schema
    if LOADER_PY["postgres"].exists():
        query("postgres", pg_uri, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def sqlalchemy_url(uri: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if uri.startswith(prefix):
            return "postgresql+psycopg://" + uri[len(prefix) :]
    return uri


# -- comparison helpers -----------------------------------------------------------------
def ts(value: Any) -> datetime | None:
    """ISO string (Z/offset/naive-UTC, 'T' or ' ') -> aware UTC datetime, ms precision."""
    if value in (None, ""):
        return None
    dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    dt = dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)
    return dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def js(value: Any) -> Any:
    """JSON column value (text in DuckDB, decoded in PostgreSQL) -> Python object."""
    return json.loads(value) if isinstance(value, str) else value
