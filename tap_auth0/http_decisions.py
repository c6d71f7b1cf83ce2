"""What to do after one HTTP attempt: return, retry after a back-off, wait for the rate
limit's reset, renew the token, or fail with a one-line error.

`classify` is pure (no I/O, clock, randomness or shared state: the jitter and the
redaction are inputs), so the whole retry policy is testable as a table of cases, and
`Auth0HTTP.send` is only the loop that carries the decisions out.
"""

from __future__ import annotations

import enum
import logging
import re
import typing as t
from dataclasses import dataclass, field, replace

import msgspec
import requests

from tap_auth0.errors import (
    Auth0APIError,
    AuthError,
    FeatureNotEnabled,
    NetworkError,
    RetriesExhausted,
    ScopeError,
    TapAuth0Error,
    TokenExpired,
)

MAX_BACKOFF_SECONDS = 30.0
# A storm of 429s is survivable: each one waits for the announced reset, so the
# budget for them is larger than for failures.
MAX_THROTTLE_RETRIES = 60
# Failing to connect (DNS, refused) is rarely transient: fewer retries than for 5xx.
CONNECT_RETRIES = 3
# A request may outlive several short-lived tokens (waits for 429 resets, back-offs), and
# the token another thread renewed to may be refused too (revoked with the one before):
# so it may renew more than once, but a token refused twice (renewal gave the same token)
# ends the run.
MAX_RENEWALS_PER_REQUEST = 3
_SSL_REASON = re.compile(r"\[SSL(?:: [A-Z_]+)?\] [^(]+")
_EXPECTED_SCOPES = re.compile(r"expected (?:any of|all of)?:?\s*([\w:, ]+)", re.IGNORECASE)
_HTML_TITLE = re.compile(r"<title[^>]*>([^<]{1,120})</title>", re.IGNORECASE)
# Retried like a 503: the answer began but was cut off (a proxy or a dropped connection).
_CUT_ANSWER = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)


class Action(enum.Enum):
    RETURN = "return"  # hand the answer to the caller
    RETRY = "retry"  # back off `delay` seconds, then send again
    WAIT = "wait"  # 429: send again; the rate scheduler holds it until the reset
    RENEW = "renew"  # renew the refused token, then send again
    RAISE = "raise"  # give up with `error`


@dataclass(frozen=True)
class Policy:
    """What one request allows: fixed for all its attempts."""

    label: str  # "GET /api/v2/users", for messages
    host: str
    max_retries: int
    timeout: float
    auth: bool = True
    allow: tuple[int, ...] = ()  # statuses returned to the caller, not raised
    renewable: bool = False  # the token can be renewed (client credentials)
    # Decode a 2xx body as JSON (a body that is not JSON is retried like a 503).
    decode: t.Callable[[bytes], t.Any] | None = None
    # The host already answered with JSON in this run: a page that is not JSON is then a
    # proxy's hiccup (retried); before that it is most likely the wrong host (failed at once).
    proven: bool = True
    redact: t.Callable[[str], str] = lambda text: text


@dataclass(frozen=True)
class Attempt:
    """One attempt of a request: its policy, what earlier attempts met, the token sent."""

    policy: Policy
    failures: int = 0  # transient failures so far: 5xx, timeouts, resets, bad bodies
    throttles: int = 0  # 429s so far
    refused: frozenset[str] = frozenset()  # tokens a 401 'expired' refused
    token: str | None = None
    jitter: float = 1.0  # back-off multiplier, drawn by the caller in [0.5, 1]


@dataclass(frozen=True)
class Decision:
    action: Action
    next: Attempt  # the counts to carry into the next attempt
    delay: float = 0.0  # RETRY
    error: TapAuth0Error | None = None  # RAISE
    body: t.Any = None  # RETURN: the decoded JSON when the policy decodes
    log: str = ""  # the line to log before acting (already redacted)
    level: int = field(default=logging.INFO)


Outcome = requests.Response | requests.exceptions.RequestException


def classify(outcome: Outcome, attempt: Attempt) -> Decision:
    """The decision for one attempt's answer (or the exception that replaced it)."""
    if isinstance(outcome, requests.exceptions.RequestException):
        return _exception(outcome, attempt)
    status = outcome.status_code
    if status < 300:
        return _success(outcome, attempt)
    if status in attempt.policy.allow:
        return Decision(Action.RETURN, attempt)
    if status == 429:
        return _throttled(attempt)
    if status >= 500 or status == 408:
        message = describe_error(outcome, attempt.policy.redact)[0]
        return _transient(
            attempt,
            f"{status} {message}",
            lambda n: RetriesExhausted(
                f"{attempt.policy.label}: Auth0 answered {status} ({message})"
                f"{_giving_up(n, attempt.policy)}"
            ),
        )
    if status in (401, 403) and attempt.policy.auth:
        return _refused(outcome, attempt)
    return Decision(Action.RAISE, attempt, error=_client_error(outcome, attempt.policy))


def backoff(failures: int, jitter: float) -> float:
    """Seconds before retry number `failures`: doubling from 0.5 s, capped, jittered."""
    return min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** (failures - 1)) * jitter


def retry_limit(exc: BaseException, max_retries: int) -> int:
    """How many retries a failure gets: fewer when the connection itself cannot be made."""
    connect_phase = (
        isinstance(exc, requests.exceptions.ConnectTimeout)
        or "NewConnectionError" in repr(exc)
        or "NameResolution" in repr(exc)
    )
    return min(max_retries, CONNECT_RETRIES) if connect_phase else max_retries


# -- the cases ------------------------------------------------------------------------------
def _transient(
    attempt: Attempt,
    reason: str,
    exhausted: t.Callable[[int], TapAuth0Error],
    limit: int | None = None,
) -> Decision:
    """A failure a retry may cure (5xx, timeout, reset, bad body): retry until `limit`
    retries were spent; the log line and the final error count the same attempts."""
    failures = attempt.failures + 1
    after = replace(attempt, failures=failures)
    limit = attempt.policy.max_retries if limit is None else limit
    if failures > limit:
        return Decision(Action.RAISE, after, error=exhausted(failures))
    delay = backoff(failures, attempt.jitter)
    log = attempt.policy.redact(
        f"{attempt.policy.label}: {reason}; retry {failures}/{limit} in {delay:.1f}s"
    )
    return Decision(Action.RETRY, after, delay=delay, log=log, level=logging.WARNING)


def _exception(exc: requests.exceptions.RequestException, attempt: Attempt) -> Decision:
    policy = attempt.policy
    reason = network_reason(exc, policy.timeout, policy.redact)
    if isinstance(exc, (requests.exceptions.SSLError, requests.exceptions.InvalidURL)):
        error = NetworkError(f"Cannot reach {policy.host}: {reason}")
        return Decision(Action.RAISE, attempt, error=error)
    if isinstance(exc, _CUT_ANSWER):
        return _transient(
            attempt,
            reason,
            lambda n: RetriesExhausted(f"{policy.label}: {reason}{_giving_up(n, policy)}"),
        )
    return _transient(
        attempt,
        reason,
        lambda n: NetworkError(
            f"Cannot reach {policy.host} ({policy.label}) after {n} "
            f"attempt{'s' if n > 1 else ''}: {reason}"
        ),
        retry_limit(exc, policy.max_retries),
    )


def _success(resp: requests.Response, attempt: Attempt) -> Decision:
    policy = attempt.policy
    if policy.decode is None:
        return Decision(Action.RETURN, attempt)
    ctype = resp.headers.get("Content-Type", "")
    if ctype and "json" not in ctype.lower():
        snippet = policy.redact(" ".join(resp.text.split()))[:80]
        if not policy.proven:
            error = Auth0APIError(
                f"{policy.label}: expected JSON from {policy.host} but got {ctype} "
                f"({resp.status_code}): {snippet!r}; check 'domain' points at the tenant",
                status=resp.status_code,
            )
            return Decision(Action.RAISE, attempt, error=error)
        return _transient(
            attempt,
            f"{resp.status_code} with {ctype.split(';')[0]} instead of JSON",
            lambda n: Auth0APIError(
                f"{policy.label}: expected JSON from {policy.host} but got {ctype} "
                f"({resp.status_code}): {snippet!r}{_giving_up(n, policy)}; check 'domain' "
                "points at the tenant",
                status=resp.status_code,
            ),
        )
    try:
        body = policy.decode(resp.content)
    except (ValueError, msgspec.DecodeError):
        size = len(resp.content)
        return _transient(
            attempt,
            f"malformed JSON ({size} bytes)",
            lambda n: Auth0APIError(
                f"{policy.label}: {policy.host} sent malformed JSON ({size} bytes)"
                f"{_giving_up(n, policy)}",
                status=resp.status_code,
            ),
        )
    return Decision(Action.RETURN, attempt, body=body)


def _throttled(attempt: Attempt) -> Decision:
    after = replace(attempt, throttles=attempt.throttles + 1)
    label = attempt.policy.label
    if after.throttles > MAX_THROTTLE_RETRIES:
        error = RetriesExhausted(
            f"{label}: still rate limited (429) after {after.throttles} waits for the "
            "tenant's reset; lower 'max_requests_per_second' or run later"
        )
        return Decision(Action.RAISE, after, error=error)
    return Decision(
        Action.WAIT, after, log=f"{label}: rate limited (429); waiting for the tenant's reset"
    )


def _refused(resp: requests.Response, attempt: Attempt) -> Decision:
    message, code = describe_error(resp, attempt.policy.redact)
    expired = resp.status_code == 401 and "expired" in message.lower()
    if expired and not attempt.policy.renewable:
        # A pasted token cannot be renewed: retrying would only be refused again.
        return Decision(Action.RAISE, attempt, error=TokenExpired())
    token = attempt.token or ""
    if expired and token not in attempt.refused and len(attempt.refused) < MAX_RENEWALS_PER_REQUEST:
        after = replace(attempt, refused=attempt.refused | {token})
        return Decision(
            Action.RENEW, after, log=f"{attempt.policy.label}: token expired; renewing it"
        )
    error = auth_error(resp.status_code, message, code, attempt.policy.redact)
    return Decision(Action.RAISE, attempt, error=error)


def _client_error(resp: requests.Response, policy: Policy) -> Auth0APIError:
    status = resp.status_code
    if 300 <= status < 400:
        # Where to, without the query (it may hold a signature or the token).
        target = resp.headers.get("Location", "?").split("?", 1)[0]
        return Auth0APIError(
            f"{policy.label}: unexpected redirect ({status}) to {target}; check 'domain'",
            status=status,
        )
    message, code = describe_error(resp, policy.redact, html_summary=False)
    hint = ""
    if status == 404:
        hint = (
            f"; check 'domain': {policy.host} has no Auth0 Management API there "
            "(use the tenant's Auth0 domain, e.g. acme.us.auth0.com)"
        )
    return Auth0APIError(
        policy.redact(
            f"{policy.label}: Auth0 answered {status}{' ' + code if code else ''}: {message}{hint}"
        ),
        status=status,
        error_code=code,
    )


# -- wording ----------------------------------------------------------------------------------
def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def _giving_up(n: int, policy: Policy) -> str:
    """How a failure that outlasted its retries ends: the same count the retry lines gave."""
    return f" {_times(n)}; giving up (setting 'max_retries' is {policy.max_retries})"


def describe_error(
    resp: requests.Response,
    redact: t.Callable[[str], str] = lambda text: text,
    *,
    html_summary: bool = True,
) -> tuple[str, str | None]:
    """Auth0's `message` and `errorCode` (or OAuth's `error_description`), else the body;
    an HTML page (a proxy's 502 or 504) is named by its title, never dumped."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = body.get("message") or body.get("error_description") or body.get("error")
        code = body.get("errorCode") or (body.get("error") if "error_description" in body else None)
        if message:
            return redact(str(message)), (str(code) if code else None)
    ctype = resp.headers.get("Content-Type", "").lower()
    if html_summary and ("html" in ctype or resp.text.lstrip()[:1] == "<"):
        title = _HTML_TITLE.search(resp.text)
        named = f" {' '.join(title.group(1).split())!r}" if title else ""
        return redact(f"an HTML page{named}, not Auth0's JSON: a proxy in between?"), None
    # Redact before cutting: a cut through a secret would leave a piece nothing matches.
    text = redact(" ".join(resp.text.split()))[:160]
    return (text or resp.reason or "no body"), None


def auth_error(
    status: int, message: str, code: str | None, redact: t.Callable[[str], str]
) -> AuthError:
    """A 401/403 as the error the user can act on: plan, scope, audience or credentials."""
    low = message.lower()
    head = f"Auth0 refused the request ({status}{' ' + code if code else ''}: {message})"
    if code == "feature_not_enabled" or ("feature" in low and "not enabled" in low):
        return FeatureNotEnabled(
            redact(f"Auth0 refused the request ({status} {code or ''}: {message})")
        )
    if "scope" in low:
        found = _EXPECTED_SCOPES.search(message)
        scopes = tuple(x.strip() for x in found.group(1).split(",") if x.strip()) if found else ()
        first = scopes[0] if scopes else "required read"
        return ScopeError(
            redact(f"{head}; grant the application the {first} scope on the Management API"),
            scopes=scopes,
        )
    if "audience" in low:
        hint = "the token was issued for another API; check 'audience'"
    elif "expired" in low:
        hint = "the token has expired"
    else:
        hint = "check 'access_token' (or 'client_id'/'client_secret') and 'domain'"
    return AuthError(redact(f"{head}; {hint}"))


def network_reason(
    exc: BaseException, timeout: float, redact: t.Callable[[str], str] = lambda text: text
) -> str:
    """Why a request got no (whole) answer, in the user's terms."""
    text = str(exc)
    for marker in ("NameResolutionError", "Failed to resolve", "Name or service not known"):
        if marker in text:
            return "the domain does not resolve (DNS); check 'domain'"
    if "Connection refused" in text:
        return "connection refused; check 'domain'"
    # A read that stalls mid-body surfaces as a ConnectionError around urllib3's timeout.
    if isinstance(exc, requests.exceptions.Timeout) or "Read timed out" in text:
        return f"timed out after {timeout:g}s (setting 'request_timeout')"
    if isinstance(exc, _CUT_ANSWER):
        found = re.search(r"(\d+) bytes read, (\d+) more expected", text)
        if found is None:
            return "the answer was cut short"
        got, more = int(found.group(1)), int(found.group(2))
        return f"the answer was cut short ({got} of {got + more} bytes)"
    if any(m in text for m in ("reset by peer", "Connection aborted", "RemoteDisconnected")):
        return "the connection was closed without an answer"
    if isinstance(exc, requests.exceptions.SSLError):
        found_ssl = _SSL_REASON.search(text)
        detail = found_ssl.group(0).strip() if found_ssl else text
        return f"TLS failed ({redact(detail)[:200]}); check 'domain' and its port"
    return redact(f"{type(exc).__name__}: {text}")[:300]
