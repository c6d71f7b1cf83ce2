"""Per-user sub-resources: permissions, authentication methods, sessions, refresh tokens
(shapes vs the recordings, offset/checkpoint envelopes, 404s, the enterprise switch, truth)."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import quote

import pytest
import requests
from auth0_sandbox import Sandbox

from tests.support.recordings import assert_like, body, gets

PATHS = {
    "user_permissions": ("permissions", "permissions"),
    "user_authentication_methods": ("authentication-methods", "authenticators"),
    "user_sessions": ("sessions", "sessions"),
    "user_refresh_tokens": ("refresh-tokens", "tokens"),
}


def get(api: requests.Session, sb: Sandbox, uid: str, sub: str, **params: Any) -> requests.Response:
    return api.get(f"{sb.base_url}/api/v2/users/{quote(uid, safe='')}/{sub}", params=params)


def ok(api: requests.Session, sb: Sandbox, uid: str, sub: str, **params: Any) -> Any:
    r = get(api, sb, uid, sub, **params)
    assert r.status_code == 200, r.text
    return r.json()


def without(truth: dict[str, Any], sb: Sandbox) -> str:
    """A user who has none of the four kinds."""
    taken = set().union(*(truth[k] for k in PATHS))
    return next(u["user_id"] for u in sb.store.snapshot() if u["user_id"] not in taken)


def walk(api: requests.Session, sb: Sandbox, uid: str, sub: str, key: str, take: int) -> list:
    pages, params = [], {"take": take}
    while True:
        page = ok(api, sb, uid, sub, **params)
        assert set(page) <= {key, "next"}
        pages.append(page[key])
        if "next" not in page:
            return pages
        params = {"take": take, "from": page["next"]}


def test_permissions_as_recorded(sb: Sandbox, api: requests.Session) -> None:
    truth = sb.tenant_truth()
    full, empty = (b for url, _, b in gets("TestUserManager_Permissions"))
    uid = next(iter(truth["user_permissions"]))
    ours = ok(api, sb, uid, "permissions", include_totals="true")
    assert set(ours) == set(full)
    assert ours["permissions"] == truth["user_permissions"][uid]
    assert ours["total"] == len(ours["permissions"]) and ours["limit"] == 50
    for p in ours["permissions"]:
        assert_like(p, full["permissions"][0])
        assert p["sources"] == full["permissions"][0]["sources"]  # DIRECT
    other = without(truth, sb)
    assert ok(api, sb, other, "permissions", include_totals="true") == empty
    assert ok(api, sb, uid, "permissions") == truth["user_permissions"][uid]  # bare array


def test_authentication_methods_without_total_when_empty(
    sb: Sandbox, api: requests.Session
) -> None:
    truth = sb.tenant_truth()
    answers = [b for url, _, b in gets("TestUserManager_AuthenticationMethods") if "?" in url]
    full = next(b for b in answers if len(b["authenticators"]) == 3)
    empty = next(b for b in answers if not b["authenticators"])
    other = without(truth, sb)
    assert ok(api, sb, other, "authentication-methods", include_totals="true") == empty
    by_type = {a["type"]: a for a in full["authenticators"]}
    seen = set()
    for uid, docs in truth["user_authentication_methods"].items():
        ours = ok(api, sb, uid, "authentication-methods", include_totals="true")
        assert set(ours) == set(full) and ours["authenticators"] == docs
        assert ours["total"] == len(docs)
        for a in docs:
            seen.add(a["type"])
            if a["type"] in by_type:
                assert_like(a, {k: v for k, v in by_type[a["type"]].items() if k != "confirmed"})
            assert a["id"].startswith(f"{a['type']}|dev_")
    assert {"email", "totp", "phone"} <= seen
    uid = next(iter(truth["user_authentication_methods"]))
    n = len(truth["user_authentication_methods"][uid])
    past = ok(api, sb, uid, "authentication-methods", include_totals="true", page=5, per_page=1)
    assert past == {"authenticators": [], "start": 5, "limit": 1, "total": n}


@pytest.mark.parametrize("kind", ["user_sessions", "user_refresh_tokens"])
def test_sessions_and_tokens_checkpoint(sb: Sandbox, api: requests.Session, kind: str) -> None:
    sub, key = PATHS[kind]
    truth = sb.tenant_truth()[kind]
    many = next(uid for uid, docs in truth.items() if len(docs) >= 2)
    docs = truth[many]
    pages = walk(api, sb, many, sub, key, 1)
    assert [len(p) for p in pages] == [1] * len(docs) + [0]  # trailing full page -> empty
    assert [d for p in pages for d in p] == docs
    exact = walk(api, sb, many, sub, key, len(docs))
    assert exact == [docs, []]
    partial = ok(api, sb, many, sub, take=len(docs) + 1)
    assert partial == {key: docs}  # a partial page has no next
    assert ok(api, sb, many, sub) == {key: docs}  # default take 50; page/per_page ignored
    r = get(api, sb, many, sub, take=1, **{"from": "garbage"})
    assert r.status_code == 400 and r.json()["errorCode"] == "invalid_query_string"
    assert ok(api, sb, without(sb.tenant_truth(), sb), sub, take=50) == {key: []}


def test_session_and_token_shapes(sb: Sandbox, api: requests.Session) -> None:
    truth = sb.tenant_truth()
    assert body("TestUserManager_ListUserSessions") == {"sessions": []}
    session = body("TestSessionManager_Read")
    for docs in truth["user_sessions"].values():
        for d in docs:
            assert_like(d, session)
            assert set(d) == set(session)
    token = body("TestUserManager_ListRefreshTokens")["tokens"][0]
    nullable = {"idle_expires_at", "expires_at", "session_id"}
    for uid, docs in truth["user_refresh_tokens"].items():
        for d in docs:
            assert set(d) == set(token) and d["user_id"] == uid
            assert_like(
                {k: v for k, v in d.items() if k not in nullable},
                {k: v for k, v in token.items() if k not in nullable},
            )


def test_enterprise_features_off(sb: Sandbox, api: requests.Session) -> None:
    truth = sb.tenant_truth()
    uid = next(iter(truth["user_sessions"]))
    sb.configure(enterprise_features=False)
    for sub in ("sessions", "refresh-tokens"):
        r = get(api, sb, uid, sub)
        assert r.status_code == 403
        assert r.json()["errorCode"] == "feature_not_enabled" and r.json()["statusCode"] == 403
    assert get(api, sb, uid, "permissions").status_code == 200


@pytest.mark.parametrize("kind", sorted(PATHS))
def test_unknown_user_and_scopes(sb: Sandbox, api: requests.Session, kind: str) -> None:
    sub, _ = PATHS[kind]
    r = get(api, sb, "auth0|doesnotexist", sub)
    assert r.status_code == 404
    assert r.json() == {
        "statusCode": 404,
        "error": "Not Found",
        "message": "The user does not exist.",
        "errorCode": "inexistent_user",
    }
    scope = {
        "user_permissions": "read:users",
        "user_authentication_methods": "read:authentication_methods",
        "user_sessions": "read:sessions",
        "user_refresh_tokens": "read:refresh_tokens",
    }[kind]
    uid = sb.store.snapshot()[0]["user_id"]
    sb.configure(static_scopes="read:logs")
    r = get(api, sb, uid, sub)
    assert r.status_code == 403 and scope in r.json()["message"]
    sb.configure(static_scopes=scope)
    assert get(api, sb, uid, sub).status_code == 200


def test_truth_matches_api_for_a_sample(sb: Sandbox, api: requests.Session) -> None:
    truth = sb.tenant_truth()
    for kind, (sub, key) in PATHS.items():
        for uid in list(truth[kind])[:15]:
            if kind in ("user_sessions", "user_refresh_tokens"):
                got = [d for p in walk(api, sb, uid, sub, key, 100) for d in p]
            else:
                got = ok(api, sb, uid, sub, per_page=100)
            assert got == truth[kind][uid], (kind, uid)
    shares = {k: len(truth[k]) / len(sb.store.snapshot()) for k in PATHS}
    assert all(0.03 < s < 0.5 for s in shares.values()), shares  # a subset of users each


def test_truth_is_fast_for_3000_users(sb: Sandbox) -> None:
    assert len(sb.store.snapshot()) == 3000
    sb.tenant_truth()
    start = time.perf_counter()
    sb.tenant_truth()
    assert time.perf_counter() - start < 1.5


def test_deleted_user_leaves_truth_and_grants(
    fresh: Callable[..., AbstractContextManager[Sandbox]],
) -> None:
    with fresh(seed=3) as box, requests.Session() as s:
        s.headers["Authorization"] = "Bearer test-static-token"
        truth = box.tenant_truth()
        uid = truth["grants"][0]["user_id"]
        assert box.delete_user(uid)
        after = box.tenant_truth()
        assert uid not in {g["user_id"] for g in after["grants"]}
        assert all(uid not in after[k] for k in PATHS)
        grants = s.get(f"{box.base_url}/api/v2/grants").json()
        assert grants == after["grants"]
        r = s.get(f"{box.base_url}/api/v2/users/{quote(uid, safe='')}/permissions")
        assert r.status_code == 404
