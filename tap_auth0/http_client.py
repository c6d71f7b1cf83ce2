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
from dataclasses import dataclass, replace
from urllib.parse import quote, urlsplit

import msgspec
import requests
from requests.adapters import HTTPAdapter

from tap_auth0.auth import ClientCredentials, StaticToken
from tap_auth0.errors import Auth0APIError, AuthError
from tap_auth0.http_decisions import Action, Attempt, Decision, Policy, classify, describe_error
from tap_auth0.ratelimit import SchedulerPool
from tap_auth0.report import RunStats

if t.TYPE_CHECKING:
    from tap_auth0.auth import TokenProvider
    from tap_auth0.settings import Settings

USER_AGENT = "tap-auth0 (Singer tap; +https://hub.meltano.com)"
# Every secret any client of this process knows (settings, minted tokens): the console
# entry point redacts its one-line errors with them, whatever built the message.
_KNOWN_SECRETS: set[str] = set()
# A secret shorter than this is redacted only as a whole word: "T" must not mangle "GET".
SHORT_SECRET = 8

# How often a request waits for a rate-limit slot again because its token fell due meanwhile
# (seconds-long tokens on a loaded machine); then it is sent as it is.
SLOT_WAITS_PER_TOKEN = 3

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


@dataclass(frozen=True)
class Reply:
    """An answer `send` accepted, with its JSON body when asked to decode it."""

    response: requests.Response
    body: t.Any = None


class EnvOnceSession(requests.Session):
    """A session that reads proxy and CA settings from the environment once per host.

    `requests` re-reads them (every environment variable, twice) on each request; a run
    makes thousands of requests to one or two hosts and its environment does not change,
    so the answer per scheme and host (what `no_proxy` matches on) is kept."""

    def __init__(self) -> None:
        super().__init__()
        self._env_settings: dict[tuple[t.Any, ...], t.Mapping[str, t.Any]] = {}

    def merge_environment_settings(  # type: ignore[override]
        self, url: str, proxies: t.Any, stream: t.Any, verify: t.Any, cert: t.Any
    ) -> t.Mapping[str, t.Any]:
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
        # Set once the host answers with JSON: until then a page that is not JSON fails at
        # once (a wrong domain), afterwards it is retried (a proxy in between).
        self._host_proven = False
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
        reply = self.send(
            "GET", f"{self.api_base}{path}", params=params, bucket=bucket, decode=True
        )
        return reply.body, reply.response.links

    def sustained_rate(self, path: str) -> float | None:
        """Requests/s the bucket answering GET `path` sustains, once known (ratelimit.py)."""
        return self.scheduler.sustained_rate(f"GET {urlsplit(self.api_base + path).path}")

    def get_user(
        self, user_id: str, params: t.Mapping[str, t.Any] | None = None
    ) -> dict[str, t.Any] | None:
        """Get a User; None when Auth0 says it does not exist (deleted meanwhile)."""
        return self.get_item("/users/{id}", user_id, params)

    def get_item(
        self, template: str, item_id: str, params: t.Mapping[str, t.Any] | None = None
    ) -> dict[str, t.Any] | None:
        """GET one object by id (`template` as `/roles/{id}`, also its rate-limit bucket);
        None when Auth0 answers 404: the API's own word that it does not exist."""
        path = template.replace("{id}", quote(item_id, safe=""))
        reply = self.send(
            "GET",
            f"{self.api_base}{path}",
            params=params,
            allow=(404,),
            bucket=template,
            decode=True,
        )
        if reply.response.status_code == 404:
            return None
        body = reply.body
        if not isinstance(body, dict):
            raise Auth0APIError(f"GET /api/v2{template} answered {type(body).__name__}")
        return body

    def post_json(self, path: str, body: t.Mapping[str, t.Any]) -> t.Any:
        return self.send("POST", f"{self.api_base}{path}", json_body=body, decode=True).body

    def mint_token(self, *, client_id: str, client_secret: str, audience: str) -> dict:
        url = f"{self.base_url}/oauth/token"
        payload = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
            "audience": audience,
        }
        reply = self.send("POST", url, json_body=payload, auth=False, allow=(401, 403), decode=True)
        resp = reply.response
        if resp.status_code in (401, 403):
            message, _ = describe_error(resp, redact_secrets, html_summary=False)
            if "service not enabled" in message.lower() or "audience" in message.lower():
                raise AuthError(
                    f"Wrong audience {audience!r}: Auth0 says {message!r}; set 'audience' "
                    f"to the Management API identifier, normally {self.base_url}/api/v2/"
                )
            raise AuthError(
                f"Bad credentials: {self.host}/oauth/token refused 'client_id'/"
                f"'client_secret' ({resp.status_code}: {message})"
            )
        body = reply.body
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
        decode: bool = False,
    ) -> Reply:
        """Send until `classify` (http_decisions.py) says return or raise: 429 waits for the
        reset, 5xx/timeouts/resets/bad bodies back off, a 401 'Expired token' renews a
        renewable token; the rest raise one-line errors. `decode`: the JSON body too."""
        path = urlsplit(url).path
        endpoint = bucket or path  # rate-limit key and run-summary row
        key = f"{method} {endpoint}"
        attempt = Attempt(self._policy(method, path, auth=auth, allow=allow, decode=decode))
        while True:
            outcome, token = self._attempt(method, url, key, auth, params, json_body)
            attempt = replace(attempt, token=token, jitter=random.uniform(0.5, 1.0))
            decision = classify(outcome, attempt)
            self.stats.count(endpoint, attempt, decision.action)
            if decision.action is Action.RETURN:
                assert isinstance(outcome, requests.Response)
                if decode and outcome.status_code < 300:
                    self._host_proven = True
                return Reply(outcome, decision.body)
            if decision.error is not None:
                raise decision.error
            self._carry_out(decision, token)
            attempt = decision.next

    def _policy(
        self, method: str, path: str, *, auth: bool, allow: tuple[int, ...], decode: bool
    ) -> Policy:
        return Policy(
            label=f"{method} {path}",
            host=self.host,
            max_retries=self.max_retries,
            timeout=self.timeout,
            auth=auth,
            allow=allow,
            renewable=self.tokens is not None and self.tokens.renewable,
            # Looked up per request: a test may swap the module's decoder.
            decode=decode_json if decode else None,
            proven=self._host_proven,
            redact=redact_secrets,
        )

    def _attempt(
        self,
        method: str,
        url: str,
        key: str,
        auth: bool,
        params: t.Mapping[str, t.Any] | None,
        json_body: t.Any,
    ) -> tuple[requests.Response | requests.exceptions.RequestException, str | None]:
        """One request inside a rate-limit slot: the answer (or the exception instead) and
        the token it carried. A token that fell due while the request waited for its slot
        is not sent: the slot is given back and the token renewed outside it (a renewal is
        a request too), at most a few times."""
        for _ in range(SLOT_WAITS_PER_TOKEN):
            token = self.tokens.token() if auth and self.tokens else None
            slot = self.scheduler.acquire(key)
            if token is None or not self.tokens or not self.tokens.due(token):
                break
            self.scheduler.release(key, slot, None, None)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
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
        except requests.exceptions.RequestException as exc:
            self.scheduler.release(key, slot, None, None)
            return exc, token
        self.scheduler.release(key, slot, resp.headers, resp.status_code)
        return resp, token

    def _carry_out(self, decision: Decision, token: str | None) -> None:
        """Log, then wait or renew, as the decision says."""
        self.logger.log(decision.level, "%s", decision.log)
        if decision.action in (Action.RETRY, Action.WAIT):
            with self._lock:
                self.retried += 1
            if decision.action is Action.RETRY:
                self._sleep(decision.delay)
        elif decision.action is Action.RENEW:
            with self._lock:
                self.token_renewals_on_401 += 1
            assert self.tokens is not None
            self.tokens.renew(token or "")


def connect(settings: Settings, logger: logging.Logger) -> Auth0HTTP:
    """One client per run, shared by every stream and worker thread."""
    http = Auth0HTTP(settings, logger=logger)
    if settings.access_token:
        http.tokens = StaticToken(settings.access_token)
    else:
        client_id, client_secret = settings.client_id, settings.client_secret
        assert client_id and client_secret
        http.tokens = ClientCredentials(
            lambda: http.mint_token(
                client_id=client_id, client_secret=client_secret, audience=settings.audience
            ),
            host=http.host,
            on_token=http.register_secret,
        )
    return http
