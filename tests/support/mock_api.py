"""A requests-mock Auth0 tenant (fixed domain) serving a FakeSearch, and the tap run on it
in-process."""

from __future__ import annotations

import re
import typing as t
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.fake_search import FakeSearch
from tests.support.mock_tenant import API, DOMAIN, HEADERS, Tenant, mount_tenant
from tests.support.tap import catalog_selecting, run_inprocess

__all__ = ["API", "DOMAIN", "HEADERS", "mount_search", "run_tap"]


def mount_search(requests_mock, search: FakeSearch) -> None:
    """Serve GET /users from the fake index and GET /users/{id} from its users, in a tenant
    with no roles and no organizations."""
    mount_tenant(requests_mock, Tenant())

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
    return parse_qs(urlsplit(url).query).get(name, [""])[0]


def run_tap(
    config: dict[str, t.Any],
    state: dict | None = None,
    catalog: dict | None = None,
) -> list[dict[str, t.Any]]:
    """The tap in-process against the mocked tenant (`domain` defaults to DOMAIN), with the
    users streams selected unless a catalog says otherwise."""
    config = {"domain": DOMAIN, **config}
    if catalog is None:
        catalog = catalog_selecting(config, {"users", "user_detail"})
    return run_inprocess(config, state=state, catalog=catalog)
