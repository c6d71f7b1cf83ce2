"""HTTP behaviour: retries, 429 waits for the reset, token renewal, one-line errors."""

from __future__ import annotations

import logging
import time

import pytest
import requests

from tap_auth0.client import connect
from tap_auth0.errors import Auth0APIError, AuthError, NetworkError, RetriesExhausted
from tap_auth0.settings import parse_settings

API = "https://acme.us.auth0.com/api/v2"
LOG = logging.getLogger("test")


def rl_headers(remaining=49, reset=None):
    return {
        "x-ratelimit-limit": "50",
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset": str(int(reset if reset is not None else time.time())),
        "Content-Type": "application/json",
    }


def make(config=None, sleeps=None):
    settings = parse_settings(
        {"domain": "acme.us.auth0.com", "access_token": "static-tok", **(config or {})}
    )
    http = connect(settings, LOG)
    if sleeps is not None:
        http._sleep = sleeps.append
    return http


def test_bearer_token_and_params(requests_mock):
    m = requests_mock.get(f"{API}/users", json=[{"user_id": "a"}], headers=rl_headers())
    http = make()
    assert http.get_json("/users", {"q": "x", "per_page": 5}) == [{"user_id": "a"}]
    assert m.last_request.headers["Authorization"] == "Bearer static-tok"
    assert m.last_request.qs["per_page"] == ["5"]


def test_5xx_and_resets_are_retried_with_backoff(requests_mock):
    sleeps: list[float] = []
    requests_mock.get(
        f"{API}/users",
        [
            {"status_code": 503, "json": {"statusCode": 503, "message": "busy"}},
            {"exc": requests.exceptions.ConnectionError("Connection reset by peer")},
            {"exc": requests.exceptions.ReadTimeout("slow")},
            {"json": [], "headers": rl_headers()},
        ],
    )
    http = make(sleeps=sleeps)
    assert http.get_json("/users") == []
    assert len(sleeps) == 3 and sleeps[0] <= sleeps[2]
    assert http.retried == 3


def test_5xx_gives_up_after_max_retries(requests_mock):
    requests_mock.get(f"{API}/users", status_code=500, json={"message": "boom"})
    http = make({"max_retries": 2}, sleeps=[])
    with pytest.raises(RetriesExhausted, match=r"answered 500 \(boom\) 3 times"):
        http.get_json("/users")


def test_429_waits_until_the_announced_reset(requests_mock):
    reset = time.time() + 1.2
    requests_mock.get(
        f"{API}/users",
        [
            {
                "status_code": 429,
                "json": {"statusCode": 429, "message": "Global limit has been reached"},
                "headers": rl_headers(0, reset),
            },
            {"json": [{"user_id": "a"}], "headers": rl_headers(49)},
        ],
    )
    sleeps: list[float] = []
    http = make(sleeps=sleeps)
    t0 = time.time()
    assert http.get_json("/users") == [{"user_id": "a"}]
    assert time.time() >= int(reset) - 0.01, "waited for x-ratelimit-reset"
    assert time.time() - t0 < 3
    assert sleeps == [], "no blind exponential backoff for 429"
    assert http.scheduler.throttled == 1


@pytest.mark.parametrize(
    ("status", "body", "exc", "fragment"),
    [
        (
            400,
            {
                "statusCode": 400,
                "error": "Bad Request",
                "message": "You can only page through the first 1000 records.",
                "errorCode": "invalid_paging",
            },
            Auth0APIError,
            "GET /api/v2/users: Auth0 answered 400 invalid_paging: You can only page",
        ),
        (
            403,
            {
                "statusCode": 403,
                "message": "Insufficient scope, expected any of: read:users",
                "errorCode": "insufficient_scope",
            },
            AuthError,
            "read:users scope",
        ),
        (401, {"statusCode": 401, "message": "Invalid token."}, AuthError, "Invalid token."),
        (
            401,
            {"statusCode": 401, "message": "Bad audience: https://other/api"},
            AuthError,
            "check 'audience'",
        ),
    ],
)
def test_other_4xx_fail_in_one_line(requests_mock, status, body, exc, fragment):
    requests_mock.get(f"{API}/users", status_code=status, json=body)
    with pytest.raises(exc) as info:
        make().get_json("/users")
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_html_error_page_and_malformed_json(requests_mock):
    requests_mock.get(
        f"{API}/users", text="<html>gateway</html>", headers={"Content-Type": "text/html"}
    )
    with pytest.raises(Auth0APIError, match="expected JSON .* text/html"):
        make().get_json("/users")
    requests_mock.get(
        f"{API}/users", text='[{"user_id":', headers={"Content-Type": "application/json"}
    )
    with pytest.raises(Auth0APIError, match="malformed JSON"):
        make().get_json("/users")


def test_redirects_are_not_followed(requests_mock):
    requests_mock.get(
        f"{API}/users", status_code=302, headers={"Location": "https://evil.example/x"}
    )
    other = requests_mock.get("https://evil.example/x", json=[])
    with pytest.raises(Auth0APIError, match="unexpected redirect"):
        make().get_json("/users")
    assert not other.called


def test_get_user_404_is_none_and_id_is_url_encoded(requests_mock):
    m = requests_mock.get(
        f"{API}/users/auth0%7Cabc",
        status_code=404,
        json={
            "statusCode": 404,
            "message": "The user does not exist.",
            "errorCode": "inexistent_user",
        },
    )
    assert make().get_user("auth0|abc") is None
    assert m.called


def test_unreachable_domain_says_so(requests_mock):
    requests_mock.get(
        f"{API}/users",
        exc=requests.exceptions.ConnectionError("NewConnectionError: Connection refused"),
    )
    with pytest.raises(NetworkError, match="Cannot reach acme.us.auth0.com"):
        make(sleeps=[]).get_json("/users")


# -- client credentials ---------------------------------------------------------------
CC = {"access_token": None, "client_id": "cid", "client_secret": "s3cret-value"}


def cc_http(sleeps=None):
    settings = parse_settings({"domain": "acme.us.auth0.com", **{k: v for k, v in CC.items() if v}})
    http = connect(settings, LOG)
    http._sleep = (sleeps if sleeps is not None else []).append
    return http


def test_client_credentials_mint_and_renew_on_expired_401(requests_mock):
    tokens = requests_mock.post(
        "https://acme.us.auth0.com/oauth/token",
        [
            {"json": {"access_token": "t1", "expires_in": 86400, "token_type": "Bearer"}},
            {"json": {"access_token": "t2", "expires_in": 86400, "token_type": "Bearer"}},
        ],
    )
    users = requests_mock.get(
        f"{API}/users",
        [
            {
                "status_code": 401,
                "json": {
                    "statusCode": 401,
                    "message": "Expired token received for JSON Web Token validation",
                },
            },
            {"json": [], "headers": rl_headers()},
        ],
    )
    http = cc_http()
    assert http.get_json("/users") == []
    body = tokens.request_history[0].json()
    assert body == {
        "grant_type": "client_credentials",
        "client_id": "cid",
        "client_secret": "s3cret-value",
        "audience": "https://acme.us.auth0.com/api/v2/",
    }
    assert [r.headers["Authorization"] for r in users.request_history] == [
        "Bearer t1",
        "Bearer t2",
    ]
    assert http.token_renewals_on_401 == 1


def test_renews_only_once_per_request(requests_mock):
    requests_mock.post(
        "https://acme.us.auth0.com/oauth/token", json={"access_token": "t", "expires_in": 60}
    )
    requests_mock.get(
        f"{API}/users",
        status_code=401,
        json={"message": "Expired token received for JSON Web Token validation"},
    )
    with pytest.raises(AuthError, match="expired"):
        cc_http().get_json("/users")


def test_token_renewed_before_expiry(requests_mock):
    tokens = requests_mock.post(
        "https://acme.us.auth0.com/oauth/token",
        [
            {"json": {"access_token": "t1", "expires_in": 1}},
            {"json": {"access_token": "t2", "expires_in": 86400}},
        ],
    )
    requests_mock.get(f"{API}/users", json=[], headers=rl_headers())
    http = cc_http()
    http.get_json("/users")
    time.sleep(1.0)
    http.get_json("/users")
    assert tokens.call_count == 2


@pytest.mark.parametrize(
    ("status", "body", "fragment"),
    [
        (401, {"error": "access_denied", "error_description": "Unauthorized"}, "Bad credentials"),
        (
            403,
            {
                "error": "access_denied",
                "error_description": "Service not enabled within domain: https://x/api/v2/",
            },
            "Wrong audience",
        ),
    ],
)
def test_token_endpoint_failures(requests_mock, status, body, fragment):
    requests_mock.post("https://acme.us.auth0.com/oauth/token", status_code=status, json=body)
    with pytest.raises(AuthError) as info:
        cc_http().get_json("/users")
    assert fragment in str(info.value)
    assert "s3cret-value" not in str(info.value)


def test_static_token_expiry_cannot_be_renewed(requests_mock):
    requests_mock.get(
        f"{API}/users",
        status_code=401,
        json={"message": "Expired token received for JSON Web Token validation"},
    )
    with pytest.raises(AuthError, match="'access_token' has expired"):
        make().get_json("/users")


def test_redact_hides_secrets():
    http = make({"access_token": "supersecret-token"})
    assert http.redact("token=supersecret-token!") == "token=***!"
