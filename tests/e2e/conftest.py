"""End-to-end fixtures: in-process Auth0 sandbox -> tap-auth0 -> Meltano -> a real loader.

Every test gets its own Meltano system database (so its own state), its own DuckDB file /
PostgreSQL schema, and a fresh sandbox. The machinery is in tests/support (meltano.py,
postgres.py, warehouse.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from auth0_sandbox import Sandbox

from tests.support import postgres
from tests.support.meltano import MeltanoRunner, e2e_sandbox, need_meltano


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with e2e_sandbox() as sb:
        yield sb


@pytest.fixture
def meltano(sandbox: Sandbox, tmp_path: Path) -> MeltanoRunner:
    need_meltano()
    return MeltanoRunner(tmp_path, sandbox.base_url)


@pytest.fixture(scope="session")
def pg_uri() -> Iterator[str]:
    """TAP_AUTH0_TEST_PG_URI (set by .ci/run), else a throw-away local cluster, else skip."""
    with postgres.server() as uri:
        yield uri


@pytest.fixture
def pg_schema(pg_uri: str) -> Iterator[str]:
    with postgres.scratch_schema(pg_uri) as schema:
        yield schema
