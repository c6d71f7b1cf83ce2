"""Shared in-process sandbox for the sandbox tests (real HTTP via requests); the helpers
are in tests/support/sandbox_instances.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest
import requests
from auth0_sandbox import Sandbox

from tests.support import sandbox_instances as support


@pytest.fixture(scope="session")
def sb() -> Iterator[Sandbox]:
    with support.shared_sandbox() as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def _restore_knobs(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "sb" in request.fixturenames:
        support.restore_knobs(request.getfixturevalue("sb"))


@pytest.fixture
def api(sb: Sandbox) -> Iterator[requests.Session]:
    with support.api_session() as s:
        yield s


@pytest.fixture
def users_url(sb: Sandbox) -> str:
    return support.users_url(sb)


@pytest.fixture
def fresh() -> Callable[..., AbstractContextManager[Sandbox]]:
    """A small private sandbox for tests that need their own knobs or data."""
    return support.fresh_sandbox
