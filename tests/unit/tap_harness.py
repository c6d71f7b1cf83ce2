"""Run the tap in-process against requests-mock and collect its Singer messages."""

from __future__ import annotations

import io
import json
import re
import typing as t
from contextlib import redirect_stdout
from urllib.parse import unquote

from tap_auth0.tap import TapAuth0
from tests.unit.fake_search import FakeSearch

DOMAIN = "https://acme.us.auth0.com"
API = f"{DOMAIN}/api/v2"
HEADERS = {
    "Content-Type": "application/json",
    "x-ratelimit-limit": "1000",
    "x-ratelimit-remaining": "999",
    "x-ratelimit-reset": "0",
}


def mount_search(requests_mock, search: FakeSearch) -> None:
    """Serve GET /users from the fake index and GET /users/{id} from its users."""

    def list_users(request, context):
        qs = request.qs
        per_page = int(qs.get("per_page", ["50"])[0])
        search.page_size = per_page
        q = unquote(request.url.split("q=", 1)[1].split("&", 1)[0]) if "q=" in request.url else ""
        q = request.qs.get("q", [""])[0] if not q else _raw_param(request.url, "q")
        sort = _raw_param(request.url, "sort") or "updated_at:1"
        users, total = search.fetch(q, sort, qs.get("include_totals") == ["true"])
        context.headers.update(HEADERS)
        if qs.get("include_totals") == ["true"]:
            return {
                "start": 0,
                "limit": per_page,
                "length": len(users),
                "users": users,
                "total": total,
            }
        return users

    def get_user(request, context):
        uid = unquote(request.path.rsplit("/", 1)[1])
        context.headers.update(HEADERS)
        user = search.users.get(uid)
        if user is None:
            context.status_code = 404
            return {
                "statusCode": 404,
                "error": "Not Found",
                "message": "The user does not exist.",
                "errorCode": "inexistent_user",
            }
        return dict(user)

    requests_mock.get(f"{API}/users", json=list_users)
    requests_mock.get(re.compile(rf"{re.escape(API)}/users/[^/?]+"), json=get_user)


def _raw_param(url: str, name: str) -> str:
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(url).query).get(name, [""])[0]


def run_tap(
    config: dict[str, t.Any],
    state: dict | None = None,
    catalog: dict | None = None,
) -> list[dict[str, t.Any]]:
    buf = io.StringIO()
    tap = TapAuth0(config={"domain": DOMAIN, **config}, state=state, catalog=catalog)
    with redirect_stdout(buf):
        tap.sync_all()
    return [json.loads(line) for line in buf.getvalue().splitlines() if line.strip()]


def records(messages, stream: str) -> list[dict]:
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


def last_state(messages) -> dict:
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    return states[-1]
