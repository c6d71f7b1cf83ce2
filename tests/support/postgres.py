"""PostgreSQL for the end-to-end tests: TAP_AUTH0_TEST_PG_URI (set by .ci/run), else a
throw-away local cluster started with the `scripts/pgtemp.py` command line (never imported),
else a server already on 127.0.0.1:5432, else skip."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.support.meltano import LOADER_PY, MeltanoRunner
from tests.support.paths import ROOT
from tests.support.warehouse import query

PGTEMP = ROOT / "scripts" / "pgtemp.py"
PGTEMP_NO_SERVER_BINARIES = 3  # `pgtemp.py start` exit status: no initdb/pg_ctl found
LOCAL_URI = "postgresql://postgres@127.0.0.1:5432/postgres"


def local_server_listens() -> bool:
    """Whether a PostgreSQL server (or anything) listens on the default local port."""
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", 5432), 0.5):
        return True
    return False


def _pgtemp(action: str, datadir: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(PGTEMP), action, "--dir", datadir],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
        check=False,
    )


def _exported(stdout: str, name: str) -> str:
    """The value of `export NAME=...` in pgtemp's output."""
    for line in stdout.splitlines():
        if line.startswith(f"export {name}="):
            return shlex.split(line.removeprefix("export "))[0].split("=", 1)[1]
    raise AssertionError(f"pgtemp printed no {name}: {stdout!r}")


@contextmanager
def server() -> Iterator[str]:
    """A PostgreSQL URI for the session; skips when no server can be had."""
    uri = os.environ.get("TAP_AUTH0_TEST_PG_URI")
    if uri:
        yield uri
        return
    datadir = tempfile.mkdtemp(prefix="tap-auth0-e2e-pg-")
    started = _pgtemp("start", datadir)
    if started.returncode != 0:
        shutil.rmtree(datadir, ignore_errors=True)
        if started.returncode != PGTEMP_NO_SERVER_BINARIES:
            tail = (started.stderr or started.stdout).strip()[-2000:]
            pytest.skip(f"could not start a local PostgreSQL cluster: {tail}")
        if local_server_listens():
            yield LOCAL_URI
            return
        pytest.skip(
            "no PostgreSQL: TAP_AUTH0_TEST_PG_URI is unset, no server binaries (initdb/pg_ctl)"
            " to start one, and nothing listens on 127.0.0.1:5432"
            " (apt-get install postgresql, or run .ci/run)"
        )
    try:
        yield _exported(started.stdout, "TAP_AUTH0_TEST_PG_URI")
    finally:
        stopped = _pgtemp("stop", datadir)
        if stopped.returncode != 0:
            print(f"pgtemp stop failed: {stopped.stderr}", file=sys.stderr)
        shutil.rmtree(datadir, ignore_errors=True)


@contextmanager
def scratch_schema(uri: str) -> Iterator[str]:
    """A fresh schema name; dropped afterwards (when the loader plugin can reach it)."""
    schema = f"auth0_e2e_{uuid.uuid4().hex[:8]}"
    yield schema
    if LOADER_PY["postgres"].exists():
        query("postgres", uri, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextmanager
def meltano_schemas(meltano: MeltanoRunner, uri: str) -> Iterator[tuple[str, str]]:
    """A scratch schema for the loader and its `_marts` schema for dbt, set in `meltano`'s
    environment (the tap's PostgreSQL URI too); both dropped afterwards."""
    with scratch_schema(uri) as schema:
        marts = f"{schema}_marts"
        meltano.env["TAP_AUTH0_PG_URI"] = sqlalchemy_url(uri)
        meltano.env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"] = schema
        meltano.env["DBT_POSTGRES_SOURCE_SCHEMA"] = schema
        meltano.env["DBT_POSTGRES_SCHEMA"] = marts
        try:
            yield schema, marts
        finally:
            query("postgres", uri, f'DROP SCHEMA IF EXISTS "{marts}" CASCADE')


def sqlalchemy_url(uri: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if uri.startswith(prefix):
            return "postgresql+psycopg://" + uri[len(prefix) :]
    return uri
