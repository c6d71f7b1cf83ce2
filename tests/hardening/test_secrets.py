"""Secrets: tokens and the client secret never reach stdout/stderr (at DEBUG too, in
error text too), IdP tokens stay out of records unless asked, the Authorization header
never leaves the tenant's host, and plain http is for loopback hosts only."""

from __future__ import annotations

import json
import threading
import typing as t

import pytest
from auth0_sandbox import Sandbox, SandboxConfig

from tap_auth0.errors import ConfigError
from tap_auth0.settings import parse_settings
from tests.support.cli import RUN_TIMEOUT, Progress, last_stderr_line, run_cli, run_streamed
from tests.support.figures import report
from tests.support.messages import parse
from tests.support.stub_http import JSON, Reply, Seen, StubServer
from tests.support.tap import catalog_adding

CLIENT_ID = "secrets-client-id"
CLIENT_SECRET = "cs-7f3a9c1e5b2d4086-not-for-logs"
STATIC_TOKEN = "at-static-0b1c2d3e4f5a6b7c-not-for-logs"
DEBUG_ENVS = [{"TAP_AUTH0_LOGLEVEL": "DEBUG"}, {"LOGLEVEL": "DEBUG"}]


def capture_mints(sb: Sandbox) -> list[str]:
    """Every token the sandbox mints, to look for them in the tap's output."""
    minted: list[str] = []
    original = type(sb.tokens).mint.__get__(sb.tokens)

    def mint(scopes: str, lifetime: float) -> str:
        value = original(scopes, lifetime)
        minted.append(value)
        return value

    sb.tokens.mint = mint  # type: ignore[method-assign]
    return minted


def assert_no_secret(text: str, secrets: t.Iterable[str], window: int = 10) -> None:
    """Not the secret, nor any 10-character piece of it (a cut message may hold one)."""
    for secret in secrets:
        assert secret not in text, f"secret {secret[:6]}... leaked"
        for i in range(len(secret) - window + 1):
            piece = secret[i : i + window]
            assert piece not in text, f"a piece of secret {secret[:6]}... leaked: {piece!r}"


# -- 1. nothing secret in stdout/stderr, at DEBUG ---------------------------------------------
@pytest.mark.parametrize("env", DEBUG_ENVS, ids=lambda e: next(iter(e)))
@pytest.mark.parametrize("mode", ["client_credentials", "access_token"])
def test_no_token_or_secret_in_output_at_debug(env: dict[str, str], mode: str) -> None:
    cfg = SandboxConfig(
        users=400,
        seed=3,
        access_token=STATIC_TOKEN,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        token_lifetime=1,  # renewals ahead of expiry...
        latency_ms=30,
    )
    with Sandbox(cfg) as sb:
        minted = capture_mints(sb)
        config: dict[str, t.Any] = {"domain": sb.base_url, "tenant": "sandbox"}
        if mode == "client_credentials":
            config |= {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        else:
            config |= {"access_token": STATIC_TOKEN}
        expired = threading.Event()

        def expire_midway(p: Progress) -> bool:
            # ...and after a 401 'Expired token' (client credentials only: a static
            # token cannot be renewed, that run would fail by design).
            if mode == "client_credentials" and p.counts["users"] >= 150 and not expired.is_set():
                expired.set()
                sb.expire_tokens()
            return False

        attempt = run_streamed(
            config,
            catalog=catalog_adding(config, {"user_detail"}),
            trigger=expire_midway,
            env=env,
        )
        assert attempt.returncode == 0, attempt.stderr[-3000:]
        out = json.dumps(attempt.msgs)
        assert " | DEBUG " in attempt.stderr, "DEBUG logging is not on"
        assert "urllib3.connectionpool" in attempt.stderr, "urllib3's debug log is not on"
        if mode == "client_credentials":
            assert len(minted) >= 3 and "token expired; renewing" in attempt.stderr
        secrets = [CLIENT_SECRET, STATIC_TOKEN, *minted]
        assert_no_secret(out, secrets)
        assert_no_secret(attempt.stderr, secrets)
        report(
            f"secrets at DEBUG ({mode}, {next(iter(env))}): {len(attempt.stderr.splitlines())} "
            f"stderr lines, {len(minted)} minted tokens, none leaked"
        )


# -- 2. nor in error text -------------------------------------------------------------------
ECHO_TOKEN = "minted-by-stub-5e6f7a8b9c0d1e2f"


def echo_body(status: int, html: bool = False) -> t.Callable[[Seen], Reply]:
    """A token endpoint that puts the posted body (with the secret) in its answer."""

    def handler(seen: Seen) -> Reply:
        text = seen.body.decode()
        if html:
            return Reply(status, f"<html><body>{text}</body></html>", {"Content-Type": "text/html"})
        return Reply(status, {"error": "access_denied", "error_description": f"bad: {text}"})

    return handler


def echo_auth(status: int, html: bool = False) -> t.Callable[[Seen], Reply]:
    """An API that puts the Authorization header in its answer (token minted by the stub)."""

    def handler(seen: Seen) -> Reply:
        if seen.path.startswith("/oauth/token"):
            return Reply(200, {"access_token": ECHO_TOKEN, "expires_in": 86400}, JSON)
        header = seen.headers.get("Authorization", "")
        if html:
            return Reply(status, f"<html>Welcome {header}</html>", {"Content-Type": "text/html"})
        return Reply(status, {"statusCode": status, "message": f"Rejected {header}"}, JSON)

    return handler


ERROR_ECHOES = [
    ("token-endpoint-401-echoes-secret", echo_body(401), "client_credentials", 3),
    ("token-endpoint-500-echoes-secret", echo_body(500), "client_credentials", 4),
    ("token-endpoint-html-echoes-secret", echo_body(200, html=True), "client_credentials", 4),
    ("api-401-echoes-static-token", echo_auth(401), "access_token", 3),
    ("api-403-echoes-minted-token", echo_auth(403), "client_credentials", 3),
    ("api-400-echoes-minted-token", echo_auth(400), "client_credentials", 4),
    ("api-503-echoes-static-token", echo_auth(503), "access_token", 4),
    ("api-html-page-echoes-static-token", echo_auth(200, html=True), "access_token", 4),
]


@pytest.mark.parametrize(
    ("name", "handler", "mode", "code", "command"),
    [(*e, ()) for e in ERROR_ECHOES]
    + [(*e, ("--test",)) for e in ERROR_ECHOES if e[0].startswith(("token-endpoint-401", "api-4"))],
    ids=[e[0] for e in ERROR_ECHOES]
    + [f"{e[0]}-test" for e in ERROR_ECHOES if e[0].startswith(("token-endpoint-401", "api-4"))],
)
def test_no_secret_in_error_text(
    name: str, handler: t.Callable[[Seen], Reply], mode: str, code: int, command: tuple
) -> None:
    """Sync and connection test (`--test`) alike."""
    with StubServer(handler) as stub:
        config: dict[str, t.Any] = {"domain": stub.base_url, "tenant": "sandbox", "max_retries": 1}
        if mode == "client_credentials":
            config |= {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        else:
            config |= {"access_token": STATIC_TOKEN}
        proc = run_cli(config, *command, env={"TAP_AUTH0_LOGLEVEL": "DEBUG"}, timeout=RUN_TIMEOUT)
    line = last_stderr_line(proc.stderr)
    assert proc.returncode == code, proc.stderr[-2000:]
    assert line.startswith("tap-auth0: error: ")
    assert "Traceback" not in proc.stderr
    assert_no_secret(proc.stdout + proc.stderr, [CLIENT_SECRET, STATIC_TOKEN, ECHO_TOKEN])


def test_short_secrets_do_not_mangle_messages() -> None:
    """A 1-letter test token must not turn "GET" into "GE***" (whole words only)."""
    from tap_auth0.http_client import redact_secrets

    assert redact_secrets("GET /api/v2/users 'T'", ["T"]) == "GET /api/v2/users '***'"
    assert redact_secrets("Bearer T", ["T"]) == "Bearer ***"
    assert redact_secrets("x-long-secret-value-x", ["long-secret-value"]) == "x-***-x"


# -- 3. IdP tokens ----------------------------------------------------------------------------
IDP = {
    "access_token": "idp-access-1a2b3c4d5e",
    "refresh_token": "idp-refresh-6f7a8b9c0d",
    "access_token_secret": "idp-twitter-secret-1e2f3a",
}


@pytest.fixture(scope="module")
def idp_sandbox() -> t.Iterator[tuple[Sandbox, list[str]]]:
    with Sandbox(SandboxConfig(users=60, seed=4, access_token=STATIC_TOKEN)) as sb:
        ids = []
        for n, provider in enumerate(("google-oauth2", "twitter")):
            user = sb.create_user(
                email=f"idp{n}@example.com",
                identities=[
                    {
                        "provider": provider,
                        "user_id": f"idp{n}",
                        "connection": provider,
                        "isSocial": True,
                        **IDP,
                    },
                    {"provider": "auth0", "user_id": f"db{n}", "connection": "db"},
                ],
            )
            ids.append(user["user_id"])
        yield sb, ids


@pytest.mark.parametrize("direct", [False, True], ids=["listing", "user_ids"])
@pytest.mark.parametrize("include", [False, True], ids=["default", "include_idp_tokens"])
def test_idp_tokens_dropped_unless_asked(
    idp_sandbox: tuple[Sandbox, list[str]], include: bool, direct: bool
) -> None:
    sb, ids = idp_sandbox
    config: dict[str, t.Any] = {
        "domain": sb.base_url,
        "tenant": "sandbox",
        "access_token": STATIC_TOKEN,
    }
    if include:
        config["include_idp_tokens"] = True
    if direct:
        config["user_ids"] = ids
    proc = run_cli(config, catalog=catalog_adding(config, {"user_detail"}), timeout=RUN_TIMEOUT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    msgs = parse(proc.stdout)
    streams = ("user_detail",) if direct else ("users", "user_detail")
    for stream in streams:
        got = {
            m["record"]["user_id"]: m["record"]
            for m in msgs
            if m["type"] == "RECORD" and m["stream"] == stream
        }
        for uid in ids:
            first = got[uid]["identities"][0]
            for key, value in IDP.items():
                if include:
                    assert first.get(key) == value, (stream, key)
                else:
                    assert key not in first, (stream, key)
    if not include:
        assert_no_secret(proc.stdout + proc.stderr, IDP.values())
    assert_no_secret(proc.stderr, IDP.values())


# -- 4. the Authorization header stays with the tenant ----------------------------------------
@pytest.mark.parametrize(
    ("path", "status", "mode"),
    [
        ("/api/v2/users", 302, "access_token"),
        ("/api/v2/users", 307, "access_token"),
        ("/api/v2/users", 301, "client_credentials"),
        ("/oauth/token", 307, "client_credentials"),
        ("/oauth/token", 308, "client_credentials"),
    ],
)
def test_redirect_to_another_host_is_not_followed(path: str, status: int, mode: str) -> None:
    """A redirect (from a proxy or a wrong domain) to another host: the tap stops with a
    one-line error; the other host receives nothing (no token, no client secret)."""
    with StubServer(lambda seen: Reply(404), host="127.0.0.2") as other:

        def tenant(seen: Seen) -> Reply:
            if seen.path.startswith(path):
                return Reply(status, "", {"Location": f"{other.base_url}{seen.path}"})
            if seen.path.startswith("/oauth/token"):
                return Reply(200, {"access_token": ECHO_TOKEN, "expires_in": 86400}, JSON)
            return Reply(200, {"users": [], "total": 0}, JSON)

        with StubServer(tenant) as stub:
            config: dict[str, t.Any] = {"domain": stub.base_url, "tenant": "sandbox"}
            if mode == "client_credentials":
                config |= {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
            else:
                config |= {"access_token": STATIC_TOKEN}
            proc = run_cli(config, timeout=RUN_TIMEOUT)
            assert any(s.path.startswith(path) for s in stub.seen)
        method = "POST" if path == "/oauth/token" else "GET"
        assert other.seen == [], f"{len(other.seen)} requests followed the redirect"
    assert proc.returncode == 4
    line = last_stderr_line(proc.stderr).replace(str(other.port), "PORT")
    assert line == (
        f"tap-auth0: error: {method} {path}: unexpected redirect ({status}) to "
        f"http://127.0.0.2:PORT{path}; check 'domain'"
    )
    assert_no_secret(proc.stderr, [CLIENT_SECRET, STATIC_TOKEN, ECHO_TOKEN])


def test_export_download_never_carries_the_authorization_header() -> None:
    """The presigned download link (S3 in production: another host) is fetched without
    the Authorization header; the sandbox would answer 400 to one that has it."""
    cfg = SandboxConfig(
        users=200, seed=6, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, export_seconds=0.3
    )
    with Sandbox(cfg) as sb:
        minted = capture_mints(sb)
        downloads: list[dict[str, str]] = []
        original = type(sb).handle_download.__get__(sb)

        def handle_download(req: t.Any) -> t.Any:
            downloads.append(dict(req.headers))
            return original(req)

        sb.handle_download = handle_download  # type: ignore[method-assign]
        config = {
            "domain": sb.base_url,
            "tenant": "sandbox",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "users_extraction": "export",
        }
        proc = run_cli(config, catalog=catalog_adding(config, {"user_detail"}), timeout=RUN_TIMEOUT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(downloads) == 1
    assert "authorization" not in downloads[0], "the API token went to the download URL"
    assert not any(token in json.dumps(downloads) for token in [*minted, CLIENT_SECRET])
    assert len(parse(proc.stdout)) > 400


# -- 5. plain http only for loopback hosts ----------------------------------------------------
@pytest.mark.parametrize(
    "domain",
    [
        "http://localhost:8080",
        "http://127.0.0.1:8080",
        "http://127.0.0.2:8080",
        "http://[::1]:8080",
        "https://acme.us.auth0.com",
        "acme.us.auth0.com",
    ],
)
def test_plain_http_is_accepted_for_loopback_hosts(domain: str) -> None:
    assert parse_settings(
        {"domain": domain, "tenant": "t", "access_token": "x"}
    ).base_url.startswith(domain.split(":")[0] if "://" in domain else "https")


@pytest.mark.parametrize(
    "domain",
    [
        "http://acme.us.auth0.com",
        "http://10.0.0.8:8080",
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
        "http://[2001:db8::1]",
    ],
)
def test_plain_http_is_refused_for_other_hosts(domain: str) -> None:
    with pytest.raises(ConfigError, match="plain http:// for a non-loopback host"):
        parse_settings({"domain": domain, "tenant": "t", "access_token": "x"})


def test_plain_http_refused_before_any_connection() -> None:
    with StubServer(lambda seen: Reply(200, [], JSON)) as stub:
        proc = run_cli(
            {
                "domain": f"http://127.0.0.1.nip.io:{stub.port}",
                "tenant": "sandbox",
                "access_token": "x",
            },
            timeout=RUN_TIMEOUT,
        )
        assert stub.seen == []
    assert proc.returncode == 2
    assert last_stderr_line(proc.stderr) == (
        "tap-auth0: error: Setting 'domain' uses plain http:// for a non-loopback host "
        "(127.0.0.1.nip.io); use https:// (http is allowed only for 127.0.0.1, localhost "
        "and [::1])"
    )
