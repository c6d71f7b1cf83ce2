"""HTTP to one Auth0 tenant: auth header, retries, rate limiting and one-line errors.

Every stream of a run shares one `Auth0HTTP` (and so one connection pool, one token and
one rate scheduler), because Auth0 rate-limits the tenant, not the stream.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
import typing as t
from urllib.parse import quote, urlsplit

import msgspec
import requests
from requests.adapters import HTTPAdapter

from tap_auth0.errors import (
    Auth0APIError,
    AuthError,
    FeatureNotEnabled,
    NetworkError,
    RetriesExhausted,
    ScopeError,
)
from tap_auth0.ratelimit import SchedulerPool
from tap_auth0.report import RunStats

if t.TYPE_CHECKING:
    from tap_auth0.auth import TokenProvider
    from tap_auth0.settings import Settings

MAX_BACKOFF_SECONDS = 30.0
# A storm of 429s is survivable: each one waits for the announced reset, so the
# budget for them is larger than for failures.
MAX_THROTTLE_RETRIES = 60
CONNECT_RETRIES = 3
# A request may outlive several short-lived tokens (waits for 429 resets, back-offs), and
# the token another thread renewed to may be refused too (revoked with the one before):
# so it may renew more than once, but a token refused twice (renewal gave the same token)
# ends the run.
MAX_RENEWALS_PER_REQUEST = 3
USER_AGENT = "tap-auth0 (Singer tap; +https://hub.meltano.com)"
# Every secret any client of this process knows (settings, minted tokens): the console
# entry point redacts its one-line errors with them, whatever built the message.
_KNOWN_SECRETS: set[str] = set()
# A secret shorter than this is redacted only as a whole word: "T" must not mangle "GET".
SHORT_SECRET = 8
_SSL_REASON = re.compile(r"\[SSL(?:: [A-Z_]+)?\] [^(]+")
_EXPECTED_SCOPES = re.compile(r"expected (?:any of|all of)?:?\s*([\w:, ]+)", re.IGNORECASE)
# Auth0 answers are UTF-8 JSON: msgspec decodes a page of users several times faster than the
# stdlib (or simplejson, which `requests` prefers), into the same dicts, lists and scalars.
# A module attribute so tests can run the same CLI with the stdlib decoder and compare bytes.
decode_json: t.Callable[[bytes], t.Any] = msgspec.json.decode


def redact_secrets(text: str, secrets: t.Iterable[str] | None = None) -> str:
    """`text` with every known secret (or those given) replaced by `***`."""
    for secret in sorted(_KNOWN_SECRETS if secrets is None else secrets, key=len, reverse=True):
        if not secret or secret not in text:
            continue
        if len(secret) >= SHORT_SECRET:
            text = text.replace(secret, "***")
        else:
            text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", "***", text)
    return text


def _auth0_error(resp: requests.Response) -> tuple[str, str | None]:
    """Auth0's `message` and `errorCode` (or OAuth's `error_description`), else the body."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = body.get("message") or body.get("error_description") or body.get("error")
        code = body.get("errorCode") or (body.get("error") if "error_description" in body else None)
        if message:
            return redact_secrets(str(message)), (str(code) if code else None)
    # Redact before cutting: a cut through a secret would leave a piece nothing matches.
    text = redact_secrets(" ".join(resp.text.split()))[:160]
    return (text or resp.reason or "no body"), None


class EnvOnceSession(requests.Session):
    """A session that reads proxy and CA settings from the environment once per host.

    `requests` re-reads them (every environment variable, twice) on each request; a run
    makes thousands of requests to one or two hosts and its environment does not change,
    so the answer per scheme and host (what `no_proxy` matches on) is kept."""

    def __init__(self) -> None:
        super().__init__()
        self._env_settings: dict[tuple[t.Any, ...], dict[str, t.Any]] = {}

    def merge_environment_settings(  # type: ignore[override]
        self, url: str, proxies: t.Any, stream: t.Any, verify: t.Any, cert: t.Any
    ) -> dict[str, t.Any]:
        if proxies or not self.trust_env:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, stream, verify, cert, id(self.proxies), self.verify)
        found = self._env_settings.get(key)
        if found is None:
            found = super().merge_environment_settings(url, proxies, stream, verify, cert)
            self._env_settings[key] = found
        return {**found, "proxies": dict(found["proxies"])}


class Auth0HTTP:
    def __init__(
        self,
        settings: Settings,
        *,
        logger: logging.Logger,
        scheduler: SchedulerPool | None = None,
        session: requests.Session | None = None,
        sleep: t.Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = settings.base_url
        self.api_base = f"{settings.base_url}/api/v2"
        self.host = urlsplit(settings.base_url).netloc
        self.timeout = settings.request_timeout
        self.max_retries = settings.max_retries
        self.logger = logger
        self.scheduler = scheduler or SchedulerPool(settings.max_requests_per_second)
        self.session = session or EnvOnceSession()
        # Each child stream of a fan-out has `max_concurrency` workers (users: up to 5).
        adapter = HTTPAdapter(
            pool_connections=4, pool_maxsize=8 * settings.max_concurrency + 4, max_retries=0
        )
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.verify = True  # never switched off: TLS is always verified for https
        self._sleep = sleep
        self.tokens: TokenProvider | None = None
        _KNOWN_SECRETS.update(s for s in (settings.access_token, settings.client_secret) if s)
        self._lock = threading.Lock()
        self.retried = 0
        self.token_renewals_on_401 = 0
        self.stats = RunStats()

    # -- secrets ------------------------------------------------------------------------
    def register_secret(self, value: str) -> None:
        if value:
            _KNOWN_SECRETS.add(value)

    def redact(self, text: str) -> str:
        return redact_secrets(text)

    # -- public calls -------------------------------------------------------------------
    def get_json(
        self,
        path: str,
        params: t.Mapping[str, t.Any] | None = None,
        *,
        bucket: str | None = None,
    ) -> t.Any:
        """GET an /api/v2 path. `bucket` names the endpoint for rate limiting (its path
        template, e.g. `/roles/{id}/users`); the path itself when not given."""
        return self.get_page(path, params, bucket=bucket)[0]

    def get_page(
        self,
        path: str,
        params: t.Mapping[str, t.Any] | None = None,
        *,
        bucket: str | None = None,
    ) -> tuple[t.Any, dict[str, dict[str, str]]]:
        """`get_json` plus the answer's `Link` header, parsed (`{"next": {"url": …}}`)."""
        resp = self.send("GET", f"{self.api_base}{path}", params=params, bucket=bucket)
        return self._json(resp, f"GET /api/v2{bucket or path}"), resp.links

    def sustained_rate(self, path: str) -> float | None:
        """Requests/s the bucket answering GET `path` sustains, once known (ratelimit.py)."""
        return self.scheduler.sustained_rate(f"GET {urlsplit(self.api_base + path).path}")

    def get_user(
        self, user_id: str, params: t.Mapping[str, t.Any] | None = None
    ) -> dict[str, t.Any] | None:
        """Get a User; None when Auth0 says it does not exist (deleted meanwhile)."""
        path = f"/users/{quote(user_id, safe='')}"
        resp = self.send(
            "GET", f"{self.api_base}{path}", params=params, allow=(404,), bucket="/users/{id}"
        )
        if resp.status_code == 404:
            return None
        body = self._json(resp, "GET /api/v2/users/{id}")
        if not isinstance(body, dict):
            raise Auth0APIError(f"GET /api/v2/users/{{id}} answered {type(body).__name__}")
        return body

    def post_json(self, path: str, body: t.Mapping[str, t.Any]) -> t.Any:
        resp = self.send("POST", f"{self.api_base}{path}", json_body=body)
        return self._json(resp, f"POST /api/v2{path}")

    def mint_token(self, *, client_id: str, client_secret: str, audience: str) -> dict:
        url = f"{self.base_url}/oauth/token"
        payload = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
            "audience": audience,
        }
        resp = self.send("POST", url, json_body=payload, auth=False, allow=(401, 403))
        if resp.status_code in (401, 403):
            message, _ = _auth0_error(resp)
            if "service not enabled" in message.lower() or "audience" in message.lower():
                raise AuthError(
                    f"Wrong audience {audience!r}: Auth0 says {message!r}; set 'audience' "
                    f"to the Management API identifier, normally {self.base_url}/api/v2/"
                )
            raise AuthError(
                f"Bad credentials: {self.host}/oauth/token refused 'client_id'/"
                f"'client_secret' ({resp.status_code}: {message})"
            )
        body = self._json(resp, "POST /oauth/token")
        if not isinstance(body, dict):
            raise AuthError(
                f"POST /oauth/token on {self.host} answered no JSON object; "
                "check 'domain' points at the tenant"
            )
        return body

    # -- the request loop -----------------------------------------------------------------
    def send(
        self,
        method: str,
        url: str,
        *,
        params: t.Mapping[str, t.Any] | None = None,
        json_body: t.Any = None,
        auth: bool = True,
        allow: tuple[int, ...] = (),
        bucket: str | None = None,
    ) -> requests.Response:
        """Send with retries: 429 waits for the reset, 5xx/timeouts/resets back off,
        a 401 'Expired token' renews the token; other 4xx raise one-line errors."""
        failures = 0
        throttles = 0
        refused: set[str] = set()
        label = f"{method} {urlsplit(url).path}"
        key = f"{method} {bucket or urlsplit(url).path}"
        endpoint = bucket or urlsplit(url).path  # for the run's summary (report.py)
        while True:
            # The current token on every attempt: a retry after a wait must not carry a
            # token that expired meanwhile (token() renews ahead of expiry).
            token = self.tokens.token() if auth and self.tokens else None
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            slot = self.scheduler.acquire(key)
            self.stats.sent(endpoint, retry=bool(failures or throttles or refused))
            try:
                resp = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,  # never carry the token to another host
                )
            except (requests.exceptions.SSLError, requests.exceptions.InvalidURL) as exc:
                self.scheduler.release(key, slot, None, None)
                raise NetworkError(f"Cannot reach {self.host}: {self._reason(exc)}") from None
            except requests.exceptions.RequestException as exc:
                self.scheduler.release(key, slot, None, None)
                failures += 1
                connect_phase = (
                    isinstance(exc, (requests.exceptions.ConnectTimeout))
                    or "NewConnectionError" in repr(exc)
                    or "NameResolution" in repr(exc)
                )
                limit = (
                    min(self.max_retries, CONNECT_RETRIES) if connect_phase else self.max_retries
                )
                if failures > limit:
                    raise NetworkError(
                        f"Cannot reach {self.host} ({label}) after {failures} "
                        f"attempt{'s' if failures > 1 else ''}: "
                        f"{self._reason(exc)}"
                    ) from None
                self._retry_wait(failures, label, self._reason(exc))
                continue
            self.scheduler.release(key, slot, resp.headers, resp.status_code)
            status = resp.status_code
            if status < 300 or status in allow:
                return resp
            if status == 429:
                throttles += 1
                self.stats.throttled(endpoint)
                with self._lock:
                    self.retried += 1
                if throttles > MAX_THROTTLE_RETRIES:
                    raise RetriesExhausted(
                        f"{label}: still rate limited (429) after {throttles} waits for the "
                        "tenant's reset; lower 'max_requests_per_second' or run later"
                    )
                self.logger.info("%s: rate limited (429); waiting for the tenant's reset", label)
                continue
            if status >= 500 or status == 408:
                failures += 1
                message, _ = _auth0_error(resp)
                if failures > self.max_retries:
                    raise RetriesExhausted(
                        f"{label}: Auth0 answered {status} ({message}) {failures} times; "
                        f"giving up (setting 'max_retries' is {self.max_retries})"
                    )
                self._retry_wait(failures, label, f"{status} {message}")
                continue
            if status == 401 and auth:
                message, code = _auth0_error(resp)
                if (
                    "expired" in message.lower()
                    and self.tokens is not None
                    and (token or "") not in refused
                    and len(refused) < MAX_RENEWALS_PER_REQUEST
                ):
                    refused.add(token or "")
                    with self._lock:
                        self.token_renewals_on_401 += 1
                    self.logger.info("%s: token expired; renewing it", label)
                    self.tokens.renew(token or "")
                    continue
                raise self._auth_error(status, message, code)
            if status == 403 and auth:
                message, code = _auth0_error(resp)
                raise self._auth_error(status, message, code)
            if 300 <= status < 400:
                # Where to, without the query (it may hold a signature or the token).
                target = resp.headers.get("Location", "?").split("?", 1)[0]
                raise Auth0APIError(
                    f"{label}: unexpected redirect ({status}) to {target}; check 'domain'",
                    status=status,
                )
            message, code = _auth0_error(resp)
            hint = ""
            if status == 404:
                hint = (
                    f"; check 'domain': {self.host} has no Auth0 Management API there "
                    "(use the tenant's Auth0 domain, e.g. acme.us.auth0.com)"
                )
            raise Auth0APIError(
                self.redact(
                    f"{label}: Auth0 answered {status}{' ' + code if code else ''}: {message}{hint}"
                ),
                status=status,
                error_code=code,
            )

    def _auth_error(self, status: int, message: str, code: str | None) -> AuthError:
        low = message.lower()
        if code == "feature_not_enabled" or ("feature" in low and "not enabled" in low):
            return FeatureNotEnabled(
                self.redact(f"Auth0 refused the request ({status} {code or ''}: {message})")
            )
        if "scope" in low:
            found = _EXPECTED_SCOPES.search(message)
            scopes = (
                tuple(x.strip() for x in found.group(1).split(",") if x.strip()) if found else ()
            )
            first = scopes[0] if scopes else "required read"
            return ScopeError(
                self.redact(
                    f"Auth0 refused the request ({status}{' ' + code if code else ''}: "
                    f"{message}); grant the application the {first} scope on the Management API"
                ),
                scopes=scopes,
            )
        if "audience" in low:
            hint = "the token was issued for another API; check 'audience'"
        elif "expired" in low:
            hint = "the token has expired"
        else:
            hint = "check 'access_token' (or 'client_id'/'client_secret') and 'domain'"
        return AuthError(
            self.redact(
                f"Auth0 refused the request ({status}{' ' + code if code else ''}: "
                f"{message}); {hint}"
            )
        )

    def _retry_wait(self, failures: int, label: str, reason: str) -> None:
        with self._lock:
            self.retried += 1
        delay = min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** (failures - 1))
        delay *= random.uniform(0.5, 1.0)
        self.logger.warning(
            "%s: %s; retry %d/%d in %.1fs",
            label,
            self.redact(reason),
            failures,
            self.max_retries,
            delay,
        )
        self._sleep(delay)

    def _reason(self, exc: BaseException) -> str:
        text = str(exc)
        for marker in ("NameResolutionError", "Failed to resolve", "Name or service not known"):
            if marker in text:
                return "the domain does not resolve (DNS); check 'domain'"
        if "Connection refused" in text:
            return "connection refused; check 'domain'"
        if any(m in text for m in ("reset by peer", "Connection aborted", "RemoteDisconnected")):
            return "the connection was closed without an answer"
        if isinstance(exc, requests.exceptions.SSLError):
            found = _SSL_REASON.search(text)
            detail = found.group(0).strip() if found else text
            return f"TLS failed ({self.redact(detail)[:200]}); check 'domain' and its port"
        if isinstance(exc, requests.exceptions.Timeout):
            return f"timed out after {self.timeout}s (setting 'request_timeout')"
        return self.redact(f"{type(exc).__name__}: {text}")[:300]

    def _json(self, resp: requests.Response, what: str) -> t.Any:
        ctype = resp.headers.get("Content-Type", "")
        if ctype and "json" not in ctype.lower():
            snippet = redact_secrets(" ".join(resp.text.split()))[:80]
            raise Auth0APIError(
                f"{what}: expected JSON from {self.host} but got "
                f"{ctype} ({resp.status_code}): {snippet!r}; "
                "check 'domain' points at the tenant",
                status=resp.status_code,
            )
        try:
            return decode_json(resp.content)
        except (ValueError, msgspec.DecodeError):
            raise Auth0APIError(
                f"{what}: {self.host} sent malformed JSON ({len(resp.content)} bytes)",
                status=resp.status_code,
            ) from None
