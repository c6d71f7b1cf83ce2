"""The Lucene subset: every feature checked against a brute-force filter over truth()."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from auth0_sandbox import QueryError, Sandbox, parse
from auth0_sandbox.lucene import And, Exists, MatchAll, Not, Or, Range, Term

from tests.support.sandbox_instances import search

User = dict[str, Any]


def _check(
    sb: Sandbox,
    api: requests.Session,
    q: str,
    pred: Callable[[User], bool],
    allow_empty: bool = False,
) -> None:
    expected = sorted(u["user_id"] for u in sb.truth() if pred(u))
    r = search(
        api,
        f"{sb.base_url}/api/v2/users",
        q=q,
        sort="user_id:1",
        per_page=100,
        include_totals="true",
        fields="user_id",
    )
    assert r.status_code == 200, (q, r.text)
    body = r.json()
    assert body["total"] == len(expected), q
    assert [u["user_id"] for u in body["users"]] == expected[:100], q
    assert allow_empty or expected, f"query matches nothing, weak test: {q}"


def _idents(u: User, key: str) -> list[Any]:
    return [i.get(key) for i in u["identities"]]


def _domain(u: User) -> str | None:
    return u["email"].rsplit("@", 1)[1] if "email" in u else None


@pytest.fixture(scope="module")
def sample(sb: Sandbox) -> dict[str, User]:
    truth = sb.truth()
    named = next(u for u in truth if "given_name" in u and u["user_id"].startswith("auth0|"))
    meta = next(u for u in truth if isinstance(u.get("user_metadata", {}).get("preferences"), dict))
    return {"named": named, "meta": meta, "mid": truth[len(truth) // 2]}


def test_parser_tree() -> None:
    assert parse("a:1 b:2") == Or((Term("a", "1"), Term("b", "2")))  # default operator OR
    assert parse("a:1 AND b:2 OR c:3") == Or(
        (And((Term("a", "1"), Term("b", "2"))), Term("c", "3"))
    )
    assert parse("+a:1 b:2 -c:3") == And((Term("a", "1"), Not(Term("c", "3"))))
    assert parse("x:[1 TO 5}") == Range("x", "1", "5", True, False)
    assert parse('x:{* TO "a b"]') == Range("x", None, "a b", False, True)
    assert parse(r"x:a\:b\*c") == Term("x", "a:b*c")
    assert parse("NOT a:1") == parse("-a:1") == And((MatchAll(), Not(Term("a", "1"))))
    assert parse("a:1 AND NOT b:2") == And((Term("a", "1"), Not(Term("b", "2"))))
    assert parse("_exists_:email") == Exists("email")
    assert parse("email:*") == Exists("email")
    assert parse("n:(x y)") == Or((Term("n", "x"), Term("n", "y")))
    assert parse("n:>=5") == Range("n", "5", None, True, True)
    assert parse("*:*") == parse("*") == MatchAll()


@pytest.mark.parametrize(
    "q",
    [
        'email:"unterminated',
        "updated_at:[2020 TO",
        "(a:1",
        "a:1)",
        "AND a:1",
        "a:1 OR",
        "email:jo*",
        "email:*smith",
        "created_at:[x TO y]",
        "logins_count:[a TO 5]",
        "blocked:maybe",
        "foo:bar",
        "identities:x",
        "name:jo~2",
        "user_metadata.theme:dar*",
        "a:",
        "a:\\",
        "updated_at:[2020 TO 2021",
        "created_at:2020-13-45",
    ],
)
def test_bad_queries_are_400(api: requests.Session, users_url: str, q: str) -> None:
    r = search(api, users_url, q=q)
    assert r.status_code == 400, q
    body = r.json()
    assert body["statusCode"] == 400 and body["error"] == "Bad Request"
    assert body["errorCode"] == "invalid_query_string"
    assert body["message"].startswith("Query validation error: ")


def test_parse_error_type() -> None:
    with pytest.raises(QueryError):
        parse("email:ab*")


def test_term_phrase_and_case_rules(
    sb: Sandbox, api: requests.Session, sample: dict[str, User]
) -> None:
    u = sample["named"]
    _check(sb, api, f'email:"{u["email"].upper()}"', lambda x: x.get("email") == u["email"])
    _check(
        sb,
        api,
        f'name:"{u["name"].lower()}"',
        lambda x: x.get("name", "").lower() == u["name"].lower(),
    )
    _check(
        sb,
        api,
        f"given_name:{u['given_name'].upper()}",
        lambda x: x.get("given_name", "").lower() == u["given_name"].lower(),
    )
    _check(
        sb,
        api,
        f"family_name:{u['family_name'].lower()}",
        lambda x: x.get("family_name", "").lower() == u["family_name"].lower(),
    )
    _check(
        sb,
        api,
        f"nickname:{u['nickname'].upper()}",
        lambda x: x.get("nickname", "").lower() == u["nickname"].lower(),
    )
    # user_id is case-sensitive: the upper-cased id matches nobody
    _check(sb, api, f'user_id:"{u["user_id"]}"', lambda x: x["user_id"] == u["user_id"])
    _check(sb, api, f'user_id:"{u["user_id"].upper()}"', lambda x: False, allow_empty=True)
    # exact, not tokenized: part of a name matches nothing
    _check(
        sb,
        api,
        f"name:{u['given_name']}",
        lambda x: x.get("name", "").lower() == u["given_name"].lower(),
        allow_empty=True,
    )


def test_booleans_and_numbers(sb: Sandbox, api: requests.Session) -> None:
    _check(sb, api, "blocked:true", lambda x: x.get("blocked") is True)
    _check(sb, api, "email_verified:false", lambda x: x.get("email_verified") is False)
    _check(sb, api, "logins_count:1", lambda x: x.get("logins_count") == 1)


def test_nested_fields(sb: Sandbox, api: requests.Session, sample: dict[str, User]) -> None:
    _check(sb, api, 'email.domain:"ACME.com"', lambda x: _domain(x) == "acme.com")
    _check(
        sb,
        api,
        'identities.connection:"Username-Password-Authentication"',
        lambda x: "Username-Password-Authentication" in _idents(x, "connection"),
    )
    _check(sb, api, "identities.provider:waad", lambda x: "waad" in _idents(x, "provider"))
    _check(sb, api, "identities.isSocial:true", lambda x: True in _idents(x, "isSocial"))
    lang = sample["meta"]["user_metadata"]["preferences"]["language"]
    _check(
        sb,
        api,
        f'user_metadata.preferences.language:"{lang}"',
        lambda x: x.get("user_metadata", {}).get("preferences", {}).get("language") == lang,
    )
    _check(
        sb,
        api,
        "app_metadata.roles:admin",
        lambda x: "admin" in x.get("app_metadata", {}).get("roles", []),
    )
    _check(sb, api, "app_metadata.roles:Admin", lambda x: False, allow_empty=True)  # sensitive
    _check(
        sb,
        api,
        "app_metadata.tenant.region:eu",
        lambda x: x.get("app_metadata", {}).get("tenant", {}).get("region") == "eu",
    )
    _check(
        sb,
        api,
        "user_metadata.shoe_size:[40 TO 42]",
        lambda x: 40 <= x.get("user_metadata", {}).get("shoe_size", 0) <= 42,
    )


def test_wildcards(sb: Sandbox, api: requests.Session, sample: dict[str, User]) -> None:
    prefix = sample["named"]["email"][:4]
    _check(
        sb,
        api,
        f"email:{prefix.upper()}*",
        lambda x: x.get("email", "").lower().startswith(prefix.lower()),
    )
    _check(sb, api, "user_id:goo*", lambda x: x["user_id"].startswith("goo"))
    _check(sb, api, "user_id:sam??|acme*", lambda x: x["user_id"].startswith("samlp|acme"))
    _check(
        sb,
        api,
        "name:jam*s*",
        lambda x: (
            x.get("name", "").lower().startswith("jam") and "s" in x.get("name", "").lower()[3:]
        ),
    )


def test_ranges(sb: Sandbox, api: requests.Session, sample: dict[str, User]) -> None:
    mid = sample["mid"]["updated_at"]
    _check(sb, api, f'updated_at:{{"{mid}" TO *]', lambda x: x["updated_at"] > mid)
    _check(sb, api, f'updated_at:["{mid}" TO *]', lambda x: x["updated_at"] >= mid)
    _check(sb, api, f"updated_at:[* TO {mid}}}", lambda x: x["updated_at"] < mid)
    lo, hi = "2025-01-01T00:00:00.000Z", "2025-06-30T23:59:59.999Z"
    _check(sb, api, "created_at:[2025-01-01 TO 2025-06-30]", lambda x: lo <= x["created_at"] <= hi)
    _check(
        sb,
        api,
        "created_at:{2025-01-01 TO 2025-06-30}",
        lambda x: "2025-01-02" <= x["created_at"] < "2025-06-30",
    )
    _check(
        sb,
        api,
        "created_at:[2025-01-01 TO 2025-06-30}",
        lambda x: lo <= x["created_at"] < "2025-06-30",
    )
    _check(
        sb,
        api,
        "last_login:[2025-03-01T10:00:00Z TO 2025-09-01T00:00:00.000+00:00]",
        lambda x: (
            "2025-03-01T10:00:00.000Z" <= x.get("last_login", "") <= "2025-09-01T00:00:00.000Z"
        ),
    )
    _check(sb, api, "logins_count:[3 TO 10}", lambda x: 3 <= x.get("logins_count", -1) < 10)
    _check(sb, api, "logins_count:>=20", lambda x: x.get("logins_count", -1) >= 20)
    _check(
        sb, api, 'user_id:["github|" TO "google"}', lambda x: "github|" <= x["user_id"] < "google"
    )
    _check(sb, api, "_exists_:last_password_reset", lambda x: "last_password_reset" in x)
    _check(sb, api, "username:*", lambda x: "username" in x)


def test_boolean_operators(sb: Sandbox, api: requests.Session) -> None:
    def gh(x: User) -> bool:
        return "github" in _idents(x, "connection")

    def blocked(x: User) -> bool:
        return x.get("blocked") is True

    _check(
        sb,
        api,
        "identities.connection:github AND blocked:true",
        lambda x: gh(x) and blocked(x),
        allow_empty=True,
    )
    _check(sb, api, "identities.connection:github OR blocked:true", lambda x: gh(x) or blocked(x))
    _check(
        sb,
        api,
        "identities.connection:github blocked:true",  # implicit OR
        lambda x: gh(x) or blocked(x),
    )
    _check(
        sb,
        api,
        "identities.connection:github && NOT _exists_:email",
        lambda x: gh(x) and "email" not in x,
    )
    _check(
        sb,
        api,
        "+identities.connection:github -_exists_:email",
        lambda x: gh(x) and "email" not in x,
    )
    _check(sb, api, "-identities.connection:github", lambda x: not gh(x))
    _check(
        sb,
        api,
        "NOT (identities.connection:github OR identities.provider:sms)",
        lambda x: not gh(x) and "sms" not in _idents(x, "provider"),
    )
    _check(
        sb,
        api,
        "(identities.provider:sms OR identities.provider:waad) AND logins_count:[2 TO *]",
        lambda x: (
            bool({"sms", "waad"} & set(_idents(x, "provider"))) and x.get("logins_count", 0) >= 2
        ),
    )
    _check(
        sb,
        api,
        "identities.connection:(github OR sms)",
        lambda x: gh(x) or "sms" in _idents(x, "connection"),
    )


def test_escaping_and_default_fields(
    sb: Sandbox, api: requests.Session, sample: dict[str, User]
) -> None:
    uid = sample["named"]["user_id"]
    escaped = uid.replace("|", "\\|")
    _check(sb, api, f"user_id:{escaped}", lambda x: x["user_id"] == uid)
    email = sample["named"]["email"]
    _check(sb, api, f'"{email}"', lambda x: x.get("email") == email)
