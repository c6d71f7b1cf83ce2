"""The local Auth0 sandbox (auth0_sandbox) as the tests use it: the shared instance and
small private ones for the sandbox tests, v3 search, and faults injected mid-run."""

from __future__ import annotations

import json
import typing as t
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from auth0_sandbox import Sandbox, SandboxConfig

from tests.support.stub_http import Reply, Seen

TOKEN = "test-static-token"
CLIENT_ID, CLIENT_SECRET = "cid", "csecret"
# Runtime knobs (`Sandbox.configure`) at their defaults: what each sandbox test starts from.
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


@contextmanager
def shared_sandbox() -> Iterator[Sandbox]:
    """The sandbox tests' shared instance: 3000 users, ties of 120, static token + client."""
    cfg = SandboxConfig(
        users=3000,
        seed=7,
        access_token=TOKEN,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        tie_group_size=120,
    )
    with Sandbox(cfg) as sandbox:
        yield sandbox


def restore_knobs(sandbox: Sandbox) -> None:
    """Undo whatever `configure` a test did on the shared sandbox."""
    sandbox.configure(
        **{**RUNTIME_DEFAULTS, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    )


@contextmanager
def fresh_sandbox(**kw: t.Any) -> Iterator[Sandbox]:
    """A small private sandbox (200 users, static TOKEN unless given)."""
    kw.setdefault("users", 200)
    kw.setdefault("access_token", TOKEN)
    with Sandbox(SandboxConfig(**kw)) as sandbox:
        yield sandbox


@contextmanager
def api_session(token: str = TOKEN) -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {token}"
        yield s


def users_url(sandbox: Sandbox) -> str:
    return f"{sandbox.base_url}/api/v2/users"


def search(api: requests.Session, url: str, **params: t.Any) -> requests.Response:
    params.setdefault("search_engine", "v3")
    return api.get(url, params=params)


def intercept(sb: t.Any, fault: t.Callable[[Seen], Reply | None]) -> t.Callable[[], None]:
    """Let `fault` answer the sandbox's /api/v2 requests (None: the sandbox answers), for
    answers its fault knobs (auth0_sandbox/faults.py) do not give (a 404, a chosen body,
    one endpoint only) in the middle of a run. Patches the instance's `handle_api` (None
    from it = reset the connection); returns the undo."""
    from urllib.parse import urlencode

    from auth0_sandbox.messages import Response

    original = type(sb).handle_api.__get__(sb)

    def handle_api(req: t.Any) -> t.Any:
        query = f"?{urlencode(req.query)}" if req.query else ""
        reply = fault(Seen(req.method, req.path + query, req.headers, req.body))
        if reply is None:
            return original(req)
        if reply.reset:
            return None
        body = reply.body
        headers = dict(reply.headers)
        ctype = headers.pop("Content-Type", "application/json; charset=utf-8")
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        return Response(reply.status, body, ctype, headers)

    sb.handle_api = handle_api
    return lambda: sb.__dict__.pop("handle_api", None)
