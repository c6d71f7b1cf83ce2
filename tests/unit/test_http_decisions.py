"""The retry policy as a table: one attempt's answer (or exception) -> what `send` does.

No session and no server: each row builds the `requests.Response` (or exception) that
`classify` would see, with the counts earlier attempts left.
"""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass, field

import msgspec
import pytest
import requests
from urllib3.exceptions import ReadTimeoutError

from tap_auth0.errors import (
    Auth0APIError,
    AuthError,
    FeatureNotEnabled,
    NetworkError,
    RetriesExhausted,
    ScopeError,
    TokenExpired,
)
from tap_auth0.http_decisions import (
    MAX_THROTTLE_RETRIES,
    Action,
    Attempt,
    Policy,
    backoff,
    classify,
)

HTML_502 = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
EXPIRED = {"statusCode": 401, "message": "Expired token received for JSON Web Token validation"}


def answer(status: int = 200, body: t.Any = None, ctype: str | None = None, **headers: str):
    resp = requests.Response()
    resp.status_code = status
    if isinstance(body, (dict, list)):
        resp._content = json.dumps(body).encode()
        ctype = ctype or "application/json; charset=utf-8"
    else:
        resp._content = (body or "").encode()
    if ctype:
        resp.headers["Content-Type"] = ctype
    resp.headers.update(headers)
    resp.encoding = "utf-8"
    return resp


@dataclass
class Case:
    id: str
    outcome: t.Any
    action: Action
    error: type[Exception] | None = None
    says: str = ""  # in the error (RAISE) or the log line (otherwise)
    policy: dict[str, t.Any] = field(default_factory=dict)
    before: dict[str, t.Any] = field(default_factory=dict)  # counts of earlier attempts
    after: dict[str, t.Any] = field(default_factory=dict)  # counts carried on


JSON_POLICY = {"decode": msgspec.json.decode}
REFUSED = requests.exceptions.ConnectionError("NewConnectionError: Connection refused")
STALLED = requests.exceptions.ConnectionError(ReadTimeoutError(None, "/", "Read timed out."))

CASES = [
    Case("2xx-returned", answer(200, [1]), Action.RETURN),
    Case(
        "allowed-404-returned",
        answer(404, {"message": "x"}),
        Action.RETURN,
        policy={"allow": (404,)},
    ),
    # -- retried like a 503 ----------------------------------------------------------------
    Case("503", answer(503, {"message": "busy"}), Action.RETRY, says="503 busy; retry 1/2 in 0.5s"),
    Case("408", answer(408, {"message": "slow"}), Action.RETRY, after={"failures": 1}),
    Case(
        "proxy-502-html",
        answer(502, HTML_502, "text/html"),
        Action.RETRY,
        says="502 an HTML page '502 Bad Gateway', not Auth0's JSON: a proxy in between?; retry",
    ),
    Case(
        "200-html-instead-of-json",
        answer(200, "<html>Maintenance</html>", "text/html"),
        Action.RETRY,
        says="200 with text/html instead of JSON; retry 1/2",
        policy=JSON_POLICY,
    ),
    Case(
        "200-truncated-json",
        answer(200, '[{"user_id": "a', "application/json"),
        Action.RETRY,
        says="malformed JSON (15 bytes); retry 1/2",
        policy=JSON_POLICY,
    ),
    Case("200-not-decoded-when-not-asked", answer(200, "<html/>", "text/html"), Action.RETURN),
    Case(
        "cut-mid-body",
        requests.exceptions.ChunkedEncodingError("IncompleteRead(10 bytes read, 30 more expected)"),
        Action.RETRY,
        says="the answer was cut short (10 of 40 bytes); retry 1/2",
    ),
    Case(
        "stalled-mid-body",
        STALLED,
        Action.RETRY,
        says="timed out after 5s (setting 'request_timeout'); retry 1/2",
    ),
    Case("read-timeout", requests.exceptions.ReadTimeout("x"), Action.RETRY, says="timed out"),
    Case(
        "reset",
        requests.exceptions.ConnectionError("Connection reset by peer"),
        Action.RETRY,
        says="the connection was closed without an answer; retry 1/2",
    ),
    Case(
        "backoff-doubles",
        answer(500, {"message": "boom"}),
        Action.RETRY,
        says="retry 2/2 in 1.0s",
        before={"failures": 1},
        after={"failures": 2},
    ),
    # -- retries spent: the error counts the attempts the retry lines counted ---------------
    Case(
        "5xx-exhausted",
        answer(500, {"message": "boom"}),
        Action.RAISE,
        RetriesExhausted,
        "Auth0 answered 500 (boom) 3 times; giving up (setting 'max_retries' is 2)",
        before={"failures": 2},
    ),
    Case(
        "proxy-504-html-exhausted",
        answer(504, "<html><title>504 Gateway Time-out</title></html>", "text/html"),
        Action.RAISE,
        RetriesExhausted,
        "Auth0 answered 504 (an HTML page '504 Gateway Time-out', not Auth0's JSON: a proxy in "
        "between?) 3 times; giving up",
        before={"failures": 2},
    ),
    Case(
        "truncated-json-exhausted",
        answer(200, "[", "application/json"),
        Action.RAISE,
        Auth0APIError,
        "GET /api/v2/users: h.example sent malformed JSON (1 bytes) 3 times; giving up",
        policy=JSON_POLICY,
        before={"failures": 2},
    ),
    Case(
        "cut-exhausted",
        requests.exceptions.ChunkedEncodingError("Connection broken"),
        Action.RAISE,
        RetriesExhausted,
        "GET /api/v2/users: the answer was cut short 3 times; giving up",
        before={"failures": 2},
    ),
    Case(
        "stall-exhausted",
        STALLED,
        Action.RAISE,
        NetworkError,
        "Cannot reach h.example (GET /api/v2/users) after 3 attempts: timed out after 5s",
        before={"failures": 2},
    ),
    Case(
        "connect-gets-3-retries-not-max",
        REFUSED,
        Action.RETRY,
        says="connection refused; check 'domain'; retry 3/3",
        policy={"max_retries": 8},
        before={"failures": 2},
    ),
    Case(
        "connect-exhausted-after-4",
        REFUSED,
        Action.RAISE,
        NetworkError,
        "after 4 attempts: connection refused",
        policy={"max_retries": 8},
        before={"failures": 3},
    ),
    Case(
        "tls-not-retried",
        requests.exceptions.SSLError("[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c)"),
        Action.RAISE,
        NetworkError,
        "Cannot reach h.example: TLS failed ([SSL: WRONG_VERSION_NUMBER] wrong version number)",
    ),
    # -- 429: wait for the reset, with its own budget ---------------------------------------
    Case(
        "429-waits",
        answer(429, {"message": "Global limit has been reached"}),
        Action.WAIT,
        says="rate limited (429); waiting for the tenant's reset",
        before={"failures": 2},
        after={"throttles": 1, "failures": 2},
    ),
    Case(
        "429-budget-spent",
        answer(429, {}),
        Action.RAISE,
        RetriesExhausted,
        "still rate limited (429)",
        before={"throttles": MAX_THROTTLE_RETRIES},
    ),
    # -- tokens -----------------------------------------------------------------------------
    Case(
        "static-token-expired-not-retried",
        answer(401, EXPIRED),
        Action.RAISE,
        TokenExpired,
        "'access_token' has expired; paste a new one or use 'client_id' + 'client_secret'",
    ),
    Case(
        "renewable-token-renewed",
        answer(401, EXPIRED),
        Action.RENEW,
        says="token expired; renewing it",
        policy={"renewable": True},
        after={"refused": frozenset({"tok"})},
    ),
    Case(
        "same-token-refused-twice",
        answer(401, EXPIRED),
        Action.RAISE,
        AuthError,
        "the token has expired",
        policy={"renewable": True},
        before={"refused": frozenset({"tok"})},
    ),
    Case(
        "invalid-token",
        answer(401, {"message": "Invalid token"}),
        Action.RAISE,
        AuthError,
        "check 'access_token'",
    ),
    Case(
        "missing-scope",
        answer(
            403,
            {
                "message": "Insufficient scope, expected any of: read:users",
                "errorCode": "insufficient_scope",
            },
        ),
        Action.RAISE,
        ScopeError,
        "grant the application the read:users scope",
    ),
    Case(
        "plan-lacks-feature",
        answer(403, {"message": "x", "errorCode": "feature_not_enabled"}),
        Action.RAISE,
        FeatureNotEnabled,
        "feature_not_enabled",
    ),
    Case(
        "token-endpoint-401-returned",
        answer(401, {"error": "access_denied"}),
        Action.RETURN,
        policy={"auth": False, "allow": (401, 403)},
    ),
    # -- answers retrying will not fix ------------------------------------------------------
    Case(
        "400",
        answer(400, {"message": "Bad paging", "errorCode": "invalid_paging"}),
        Action.RAISE,
        Auth0APIError,
        "GET /api/v2/users: Auth0 answered 400 invalid_paging: Bad paging",
    ),
    Case(
        "404-names-domain",
        answer(404, "<h1>Not Found</h1>", "text/html"),
        Action.RAISE,
        Auth0APIError,
        "Auth0 answered 404: <h1>Not Found</h1>; check 'domain': h.example has no Auth0",
    ),
    Case(
        "redirect-not-followed",
        answer(302, "", Location="https://elsewhere.example/x?sig=secret"),
        Action.RAISE,
        Auth0APIError,
        "unexpected redirect (302) to https://elsewhere.example/x; check 'domain'",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_classify(case: Case) -> None:
    fixed = {"label": "GET /api/v2/users", "host": "h.example", "max_retries": 2, "timeout": 5}
    policy = Policy(**{**fixed, **case.policy})
    attempt = Attempt(policy, token="tok", jitter=1.0, **case.before)
    decision = classify(case.outcome, attempt)
    assert decision.action is case.action
    if case.error is not None:
        assert isinstance(decision.error, case.error), decision.error
        assert case.says in str(decision.error)
        assert "\n" not in str(decision.error) and "<html" not in str(decision.error)
    else:
        assert decision.error is None
        assert case.says in decision.log
    for name, value in case.after.items():
        assert getattr(decision.next, name) == value, name


def test_a_decoded_body_is_handed_over() -> None:
    policy = Policy("GET /x", "h", 2, 5, decode=msgspec.json.decode)
    assert classify(answer(200, {"a": [1]}), Attempt(policy)).body == {"a": [1]}


def test_redaction_covers_errors_and_log_lines() -> None:
    policy = Policy("GET /x", "h", 2, 5, redact=lambda s: s.replace("s3cret", "***"))
    retry = classify(answer(500, {"message": "token s3cret broke"}), Attempt(policy))
    assert "s3cret" not in retry.log and "***" in retry.log
    failed = classify(answer(400, {"message": "bad s3cret"}), Attempt(policy))
    assert "s3cret" not in str(failed.error)


def test_backoff_doubles_to_a_cap_and_is_jittered() -> None:
    assert [backoff(n, 1.0) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert backoff(20, 1.0) == 30.0 and backoff(3, 0.5) == 1.0
