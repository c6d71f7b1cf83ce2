"""HTTP behaviour: retries, 429 waits for the reset, token renewal, one-line errors."""

from __future__ import annotations

import logging
import time

import pytest
import requests

from tap_auth0.errors import (
    Auth0APIError,
    AuthError,
    NetworkError,
    RetriesExhausted,
    TokenExpired,
)
from tap_auth0.http_client import connect
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


@pytest.mark.parametrize(
    ("body", "ctype", "fragment"),
    [
        ("<html>gateway</html>", "text/html", "expected JSON .* text/html"),
        ('[{"user_id":', "application/json", r"malformed JSON \(12 bytes\)"),
    ],
)
def test_a_body_that_is_not_json_is_retried_then_fails_in_one_line(
    requests_mock, body, ctype, fragment
):
    requests_mock.get(f"{API}/roles", json=[], headers=rl_headers())
    m = requests_mock.get(f"{API}/users", text=body, headers={"Content-Type": ctype})
    sleeps: list[float] = []
    http = make({"max_retries": 2}, sleeps=sleeps)
    http.get_json("/roles")  # the host has answered with Auth0's JSON: this is mid-run
    with pytest.raises(Auth0APIError, match=fragment) as info:
        http.get_json("/users")
    assert m.call_count == 3 and len(sleeps) == 2, "retried like a 503"
    assert "3 times; giving up (setting 'max_retries' is 2)" in str(info.value)


def test_a_web_page_before_any_json_is_the_wrong_domain_not_retried(requests_mock):
    """A login page on a 200 as the very first answer: the domain is wrong, and retrying
    it for a minute would only delay the one line that says so."""
    m = requests_mock.get(
        f"{API}/users", text="<html>Log in</html>", headers={"Content-Type": "text/html"}
    )
    sleeps: list[float] = []
    with pytest.raises(Auth0APIError, match="check 'domain'") as info:
        make(sleeps=sleeps).get_json("/users")
    assert m.call_count == 1 and sleeps == []
    assert "giving up" not in str(info.value)


def test_a_cut_or_garbled_200_is_retried_until_a_whole_answer(requests_mock):
    requests_mock.get(
        f"{API}/users",
        [
            {"text": "<html>Maintenance</html>", "headers": {"Content-Type": "text/html"}},
            {"text": '[{"user_id": "a"', "headers": rl_headers()},
            {"exc": requests.exceptions.ChunkedEncodingError("IncompleteRead(9 bytes read)")},
            {"json": [{"user_id": "a"}], "headers": rl_headers()},
        ],
    )
    requests_mock.get(f"{API}/roles", json=[], headers=rl_headers())
    sleeps: list[float] = []
    http = make(sleeps=sleeps)
    http.get_json("/roles")  # mid-run: the host has answered with JSON before
    assert http.get_json("/users") == [{"user_id": "a"}]
    assert len(sleeps) == 3 and http.retried == 3


def test_proxy_html_error_page_is_named_not_dumped(requests_mock, caplog):
    page = (
        "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad "
        "Gateway</h1></center><hr><center>nginx</center></body></html>"
    )
    requests_mock.get(
        f"{API}/users", status_code=502, text=page, headers={"Content-Type": "text/html"}
    )
    caplog.set_level(logging.INFO, logger="test")
    with pytest.raises(RetriesExhausted) as info:
        make({"max_retries": 1}, sleeps=[]).get_json("/users")
    assert str(info.value) == (
        "GET /api/v2/users: Auth0 answered 502 (an HTML page '502 Bad Gateway', not Auth0's "
        "JSON: a proxy in between?) 2 times; giving up (setting 'max_retries' is 1)"
    )
    assert "<" not in caplog.text, "no HTML in the retry lines"


def test_a_read_stalled_mid_body_is_retried_and_named(requests_mock):
    from urllib3.exceptions import ReadTimeoutError

    stalled = requests.exceptions.ConnectionError(
        ReadTimeoutError(None, "/api/v2/users", "Read timed out.")
    )
    requests_mock.get(f"{API}/users", exc=stalled)
    sleeps: list[float] = []
    with pytest.raises(NetworkError) as info:
        make({"max_retries": 2, "request_timeout": 7}, sleeps=sleeps).get_json("/users")
    assert str(info.value) == (
        "Cannot reach acme.us.auth0.com (GET /api/v2/users) after 3 attempts: timed out after "
        "7s (setting 'request_timeout')"
    )
    assert len(sleeps) == 2


def test_retry_lines_and_the_final_error_count_the_same_attempts(requests_mock, caplog):
    """A connection that cannot be made gets 3 retries, not max_retries: the retry lines
    say so ("retry 3/3"), and the error counts 4 attempts."""
    requests_mock.get(
        f"{API}/users",
        exc=requests.exceptions.ConnectionError("NewConnectionError: Connection refused"),
    )
    caplog.set_level(logging.INFO, logger="test")
    with pytest.raises(NetworkError, match="after 4 attempts"):
        make({"max_retries": 8}, sleeps=[]).get_json("/users")
    retries = [r.getMessage() for r in caplog.records if "; retry " in r.getMessage()]
    assert [m.split("; retry ")[1].split(" in ")[0] for m in retries] == ["1/3", "2/3", "3/3"]


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


def test_static_token_expiry_is_not_retried(requests_mock, caplog):
    m = requests_mock.get(
        f"{API}/users",
        status_code=401,
        json={"message": "Expired token received for JSON Web Token validation"},
    )
    caplog.set_level(logging.INFO, logger="test")
    sleeps: list[float] = []
    with pytest.raises(TokenExpired, match="'access_token' has expired") as info:
        make(sleeps=sleeps).get_json("/users")
    assert info.value.exit_code == 3
    assert m.call_count == 1 and sleeps == []
    assert "renewing" not in caplog.text, "a pasted token cannot be renewed"


def test_redact_hides_secrets():
    http = make({"access_token": "supersecret-token"})
    assert http.redact("token=supersecret-token!") == "token=***!"


def test_a_token_that_falls_due_while_waiting_for_a_slot_is_not_sent(requests_mock):
    """A rate-limit wait can outlast a short-lived token: the request gives its slot back,
    the token is renewed, and the request carries the fresh one (no 401 to draw)."""
    minted = iter(range(1, 10))
    requests_mock.post(
        "https://acme.us.auth0.com/oauth/token",
        json=lambda req, ctx: {"access_token": f"t{next(minted)}", "expires_in": 3},
    )
    m = requests_mock.get(f"{API}/users", json=[], headers=rl_headers())
    settings = parse_settings(
        {"domain": "acme.us.auth0.com", "client_id": "id", "client_secret": "secret"}
    )
    http = connect(settings, LOG)
    now = [0.0]
    assert http.tokens is not None
    http.tokens._clock = lambda: now[0]  # type: ignore[attr-defined]
    fresh = http.tokens.renew(http.tokens.token())  # minted at 0 on the test's clock
    acquire = http.scheduler.acquire
    waits = iter([5.0])  # the first slot comes 5 s later: t1 (3 s) is due by then

    def slow_acquire(key):
        now[0] += next(waits, 0.0)
        return acquire(key)

    http.scheduler.acquire = slow_acquire
    assert http.get_json("/users") == []
    following = f"t{int(fresh[1:]) + 1}"
    assert [r.headers["Authorization"] for r in m.request_history] == [f"Bearer {following}"]
