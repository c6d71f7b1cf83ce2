"""Shared in-process sandbox for the sandbox tests (real HTTP via requests)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
import requests
from auth0_sandbox import Sandbox, SandboxConfig

TOKEN = "test-static-token"
RUNTIME_DEFAULTS = {
    k: v
    for k, v in SandboxConfig().to_dict().items()
    if k
    not in {
        "users",
        "seed",
        "port",
        "host",
        "access_token",
        "tie_group_size",
        "audience",
        "verbose",
    }
}


@pytest.fixture(scope="session")
def sb() -> Iterator[Sandbox]:
    cfg = SandboxConfig(
        users=3000,
        seed=7,
        access_token=TOKEN,
        client_id="cid",
        client_secret="csecret",
        tie_group_size=120,
    )
    with Sandbox(cfg) as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def _restore_knobs(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "sb" in request.fixturenames:
        sandbox: Sandbox = request.getfixturevalue("sb")
        sandbox.configure(**{**RUNTIME_DEFAULTS, "client_id": "cid", "client_secret": "csecret"})


@pytest.fixture
def api(sb: Sandbox) -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {TOKEN}"
        yield s


@pytest.fixture
def users_url(sb: Sandbox) -> str:
    return f"{sb.base_url}/api/v2/users"


@contextmanager
def _fresh(**kw: Any) -> Iterator[Sandbox]:
    kw.setdefault("users", 200)
    kw.setdefault("access_token", TOKEN)
    with Sandbox(SandboxConfig(**kw)) as sandbox:
        yield sandbox


@pytest.fixture
def fresh() -> Callable[..., AbstractContextManager[Sandbox]]:
    """A small private sandbox for tests that need their own knobs or data."""
    return _fresh


def search(api: requests.Session, url: str, **params: Any) -> requests.Response:
    params.setdefault("search_engine", "v3")
    return api.get(url, params=params)
