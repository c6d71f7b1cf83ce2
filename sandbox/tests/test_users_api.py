"""GET /api/v2/users paging, sorting, projection and parameter validation."""

from __future__ import annotations

from collections import Counter

import requests
from auth0_sandbox import Sandbox

from tests.support.recorded_bodies import PAGING_400
from tests.support.sandbox_instances import search


def test_default_per_page_and_deterministic_order(api: requests.Session, users_url: str) -> None:
    a = search(api, users_url).json()
    b = search(api, users_url).json()
    assert len(a) == 50 and a == b


def test_paging_is_disjoint_and_follows_sort(api: requests.Session, users_url: str) -> None:
    pages = [
        search(api, users_url, sort="created_at:1", per_page=100, page=p).json() for p in range(3)
    ]
    ids = [u["user_id"] for page in pages for u in page]
    assert len(ids) == len(set(ids)) == 300
    stamps = [u["created_at"] for page in pages for u in page]
    assert stamps == sorted(stamps)
    desc = search(api, users_url, sort="created_at:-1", per_page=100).json()
    assert [u["created_at"] for u in desc] == sorted((u["created_at"] for u in desc), reverse=True)


def test_1000_result_cap(api: requests.Session, users_url: str) -> None:
    assert search(api, users_url, per_page=100, page=9).status_code == 200
    r = search(api, users_url, per_page=100, page=10)
    assert r.status_code == 400 and r.json() == PAGING_400
    r = search(api, users_url, per_page=50, page=20)
    assert r.json() == PAGING_400
    assert search(api, users_url, per_page=40, page=24).status_code == 200


def test_per_page_over_100(api: requests.Session, users_url: str) -> None:
    r = search(api, users_url, per_page=101)
    assert r.status_code == 400
    assert r.json() == {
        "statusCode": 400,
        "error": "Bad Request",
        "message": "Query validation error: 'Value 101 is greater than maximum 100' on property "
        "per_page (The amount of entries per page. Defaults to 100 if not provided).",
        "errorCode": "invalid_query_string",
    }


def test_bad_parameters(api: requests.Session, users_url: str) -> None:
    for params in (
        {"page": "x"},
        {"page": -1},
        {"include_totals": "yes"},
        {"sort": "updated_at"},
        {"sort": "user_metadata.x:1"},
        {"search_engine": "v4"},
    ):
        r = search(api, users_url, **params)
        assert r.status_code == 400, params
        assert r.json()["errorCode"] == "invalid_query_string"
        assert r.json()["message"].startswith("Query validation error: ")
    for engine in ("v1", "v2"):
        r = search(api, users_url, search_engine=engine)
        assert r.status_code == 400 and f"search_engine={engine}" in r.json()["message"]


def test_connection_param_is_ignored(api: requests.Session, users_url: str) -> None:
    plain = search(api, users_url, per_page=30).json()
    assert search(api, users_url, per_page=30, connection="github").json() == plain
    q = search(api, users_url, per_page=30, q='identities.connection:"github"').json()
    # any identity matches, so linked accounts with a secondary GitHub identity count too
    assert q and all(any(i["connection"] == "github" for i in u["identities"]) for u in q)


def test_fields_and_include_fields(sb: Sandbox, api: requests.Session, users_url: str) -> None:
    only = search(api, users_url, fields="user_id,email", per_page=20).json()
    assert all(set(u) <= {"user_id", "email"} and "user_id" in u for u in only)
    without = search(
        api, users_url, fields="identities,app_metadata", include_fields="false", per_page=20
    ).json()
    assert all(
        "identities" not in u and "app_metadata" not in u and "user_id" in u for u in without
    )
    uid = requests.utils.quote(only[0]["user_id"], safe="")
    one = api.get(
        f"{sb.base_url}/api/v2/users/{uid}",
        params={"fields": "picture,email,user_id", "include_fields": "true"},
    ).json()
    assert set(one) <= {"picture", "email", "user_id"}


def test_ties_are_not_in_user_id_order(sb: Sandbox, api: requests.Session, users_url: str) -> None:
    stamp, size = Counter(u["updated_at"] for u in sb.truth()).most_common(1)[0]
    assert size >= 120
    r = search(
        api,
        users_url,
        q=f'updated_at:"{stamp}"',
        sort="updated_at:1",
        per_page=100,
        include_totals="true",
    ).json()
    assert r["total"] == size
    ids = [u["user_id"] for u in r["users"]]
    assert ids != sorted(ids)
    again = search(
        api, users_url, q=f'updated_at:"{stamp}"', sort="updated_at:1", per_page=100
    ).json()
    assert [u["user_id"] for u in again] == ids  # deterministic, just not user_id order
    by_id = search(api, users_url, q=f'updated_at:"{stamp}"', sort="user_id:1", per_page=100).json()
    assert [u["user_id"] for u in by_id] == sorted(u["user_id"] for u in by_id)


def test_user_id_keyset_walks_everyone_past_the_cap(
    sb: Sandbox, api: requests.Session, users_url: str
) -> None:
    seen: list[str] = []
    after = None
    while True:
        q = f'user_id:{{"{after}" TO *]' if after else None
        page = search(
            api,
            users_url,
            sort="user_id:1",
            per_page=100,
            fields="user_id",
            **({"q": q} if q else {}),
        ).json()
        seen += [u["user_id"] for u in page]
        if len(page) < 100:
            break
        after = page[-1]["user_id"]
    assert seen == sorted(u["user_id"] for u in sb.truth())


def test_updated_at_keyset_like_the_tap(sb: Sandbox, api: requests.Session, users_url: str) -> None:
    """The tap's window query shape: (base) AND (updated_at:[low TO high])."""
    truth = sb.truth()
    high = max(u["updated_at"] for u in truth)
    low = sorted(u["updated_at"] for u in truth)[len(truth) // 2]
    q = (
        f'(identities.connection:"Username-Password-Authentication") AND '
        f'(updated_at:["{low}" TO "{high}"])'
    )
    body = search(
        api, users_url, q=q, sort="updated_at:1", per_page=100, include_totals="true"
    ).json()
    expected = [
        u
        for u in truth
        if low <= u["updated_at"] <= high
        and u["identities"][0]["connection"] == "Username-Password-Authentication"
    ]
    assert body["total"] == len(expected)
    assert [u["updated_at"] for u in body["users"]] == sorted(u["updated_at"] for u in expected)[
        :100
    ]


def test_users_by_email_and_url_encoded_ids(sb: Sandbox, api: requests.Session) -> None:
    u = next(x for x in sb.truth() if x["user_id"].startswith("samlp|"))
    r = api.get(f"{sb.base_url}/api/v2/users-by-email", params={"email": u["email"].upper()})
    assert [x["user_id"] for x in r.json()] == [u["user_id"]]
    r = api.get(f"{sb.base_url}/api/v2/users/{requests.utils.quote(u['user_id'], safe='')}")
    assert r.json()["user_id"] == u["user_id"]


def test_unknown_route_404(sb: Sandbox, api: requests.Session) -> None:
    r = api.get(f"{sb.base_url}/api/v2/nothing-here")
    assert r.status_code == 404 and r.json()["statusCode"] == 404
