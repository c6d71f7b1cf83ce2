"""The sandbox's role and organization API as those tests use it: a sandbox with one role of
1,100 users and one organization of 1,050 members (enough for many checkpoint pages), and a
checkpoint walker."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import requests
from auth0_sandbox import Sandbox, SandboxConfig

from tests.support.recordings import cursor_id
from tests.support.sandbox_instances import api_session

TOKEN = "rbac-token"


@contextmanager
def big_sandbox() -> Iterator[Sandbox]:
    """One role with 1,100 users (11 full pages of 100) and one org with 1,050 members."""
    cfg = SandboxConfig(
        users=1300, seed=11, access_token=TOKEN, big_role_users=1100, big_org_members=1050
    )
    with Sandbox(cfg) as sandbox:
        yield sandbox


def session() -> AbstractContextManager[requests.Session]:
    """A requests session holding the big sandbox's TOKEN."""
    return api_session(TOKEN)


def get(s: requests.Session, sb: Sandbox, path: str, **params: Any) -> requests.Response:
    return s.get(f"{sb.base_url}/api/v2{path}", params=params)


def walk(s: requests.Session, sb: Sandbox, path: str, key: str, take: int) -> list[list[Any]]:
    """Follow ``next`` from the first page to the end; the pages' item lists."""
    pages, params = [], {"take": take}
    while True:
        r = get(s, sb, path, **params)
        assert r.status_code == 200, r.text
        page = r.json()
        pages.append(page[key])
        assert set(page) <= {key, "next"}
        if "next" not in page:
            return pages
        cursor_id(page["next"])  # shaped like Auth0's
        params = {"take": take, "from": page["next"]}


def big_role(sb: Sandbox) -> str:
    truth = sb.tenant_truth()
    return max(truth["role_users"], key=lambda r: len(truth["role_users"][r]))


def big_org(sb: Sandbox) -> str:
    truth = sb.tenant_truth()
    return max(truth["organization_members"], key=lambda o: len(truth["organization_members"][o]))
