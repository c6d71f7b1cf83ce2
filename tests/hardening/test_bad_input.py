"""Bad input, answered clearly: every row runs the real `tap-auth0` and pins the exact
last stderr line the user sees, the exit code, and that no traceback is shown.

Exit codes: 0 ok, 2 configuration, 3 authentication/authorisation, 4 Auth0 API answer,
5 network. Variable parts of a line are normalised before comparing: the sandbox/stub
address ({base}, {host}), timestamps ({ts}), temporary paths ({tmp}), user ids ({id}),
export job ids ({job}) and where a cut download ended ({n}).

The second table breaks a run in the middle (after the STATE at 1000 users): the run
must fail with the pinned line, and resuming from its last STATE must yield the rest.
"""

from __future__ import annotations

import re
import typing as t
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from auth0_sandbox import Sandbox, SandboxConfig
from auth0_sandbox.auth import READ_SCOPES

from tests.support.cli import (
    RUN_TIMEOUT,
    Progress,
    last_stderr_line,
    run_cli,
    run_streamed,
    stderr_lines,
)
from tests.support.figures import report
from tests.support.messages import parse, record_ids
from tests.support.sandbox_instances import intercept
from tests.support.stub_http import JSON, RATE, Reply, Seen, StubServer, free_port
from tests.support.tap import catalog_adding, catalog_selecting

USERS = 1500
TOKEN = "static-token-for-bad-input"
CLIENT_ID, CLIENT_SECRET = "bad-input-client", "bad-input-secret-0123456789"
TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


@dataclass
class Env:
    sb: Sandbox
    stub: StubServer | None
    tmp: Path

    @property
    def base(self) -> str:
        return self.stub.base_url if self.stub else self.sb.base_url

    def static(self, **extra: t.Any) -> dict[str, t.Any]:
        return {"domain": self.base, "tenant": "sandbox", "access_token": TOKEN, **extra}

    def cc(self, **extra: t.Any) -> dict[str, t.Any]:
        creds = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        return {"domain": self.base, "tenant": "sandbox", **creds, **extra}


def normalise(line: str, tmp: Path | None = None) -> str:
    """Addresses, ports, temporary paths, timestamps and user ids -> placeholders."""
    if tmp is not None:
        line = line.replace(str(tmp), "{tmp}")
    line = re.sub(r"/tmp/tmp\w+", "{tmp}", line)
    line = re.sub(r"http://127\.0\.0\.1:\d+", "{base}", line)
    line = re.sub(r"127\.0\.0\.1:\d+", "{host}", line)
    line = re.sub(r"/api/v2/users/[^\s:]+", "/api/v2/users/{id}", line)
    line = re.sub(r"\bjob_\w+", "{job}", line)
    line = re.sub(r"after \d+ records", "after {n} records", line)  # where the cut falls
    return TS.sub("{ts}", line)


@dataclass
class Bad:
    id: str
    config: t.Callable[[Env], dict[str, t.Any] | None]
    expect: str
    code: int
    stub: t.Callable[[Seen], Reply] | None = None
    args: tuple[str, ...] = ()
    raw_config: str | None = None
    state: dict | None = None
    files: dict[str, str] = field(default_factory=dict)  # written to {tmp}
    # A sandbox of its own (50 users) prepared by this function (knobs, expired tokens):
    # rows run concurrently, so none may change the shared one.
    fresh: t.Callable[[Sandbox], None] | None = None


def html(status: int, text: str = "<html><body><h1>Sign in</h1></body></html>"):
    return lambda seen: Reply(status, text, {"Content-Type": "text/html; charset=utf-8"})


def on_users(reply: Reply) -> t.Callable[[Seen], Reply]:
    """A stub tenant: tokens minted, /api/v2/users answered with `reply`."""

    def handler(seen: Seen) -> Reply:
        if seen.path.startswith("/oauth/token"):
            return Reply(200, {"access_token": "stub-minted-token-xyz", "expires_in": 600})
        return reply

    return handler


E = "tap-auth0: error: "
NOT_FOUND = {"statusCode": 404, "error": "Not Found", "message": "Not Found"}
NO_API = "check 'domain': {host} has no Auth0 Management API there (use the tenant's Auth0 domain, e.g. acme.us.auth0.com)"  # noqa: E501
HTTP_ONLY_LOOPBACK = "use https:// (http is allowed only for 127.0.0.1, localhost and [::1])"
QUERY_REJECTED = (
    E + "Setting 'search_query' was rejected by Auth0: GET /api/v2/users: Auth0 answered 400 "
    "invalid_query_string: Query validation error: '{error}' on property q (Query in Lucene "
    'query string syntax). (query sent: ({query}) AND (updated_at:[* TO "{{ts}}"]))'
)

ROWS: list[Bad] = [
    # -- configuration (exit 2) -------------------------------------------------------------
    Bad(
        "domain-misspelled",
        lambda e: {"domian": e.base, "access_token": TOKEN},
        E + "Setting 'domain' is required (did you mean 'domian'?)",
        2,
    ),
    Bad(
        "client-secret-misspelled",
        lambda e: {
            "domain": e.base,
            "tenant": "sandbox",
            "client_id": CLIENT_ID,
            "client_secert": CLIENT_SECRET,
        },
        E + "Setting 'client_secret' is required (did you mean 'client_secert'?)",
        2,
    ),
    Bad(
        "domain-missing",
        lambda e: {"access_token": TOKEN},
        E + "Setting 'domain' is required, e.g. acme.us.auth0.com",
        2,
    ),
    Bad(
        "domain-with-spaces",
        lambda e: e.static(domain="my tenant"),
        E + "Setting 'domain' is not a valid host name: 'my tenant'",
        2,
    ),
    Bad(
        "domain-with-a-path",
        lambda e: e.static(domain="acme.us.auth0.com/login"),
        E + "Setting 'domain' must be a bare domain such as acme.us.auth0.com "
        "(got 'acme.us.auth0.com/login')",
        2,
    ),
    Bad(
        "domain-ftp-scheme",
        lambda e: e.static(domain="ftp://acme.us.auth0.com"),
        E + "Setting 'domain' must use https:// (got 'ftp://acme.us.auth0.com')",
        2,
    ),
    Bad(
        "domain-plain-http-not-loopback",
        lambda e: e.static(domain="http://acme.us.auth0.com"),
        E
        + "Setting 'domain' uses plain http:// for a non-loopback host (acme.us.auth0.com); "
        + HTTP_ONLY_LOOPBACK,
        2,
    ),
    Bad(
        "domain-port-out-of-range",
        lambda e: e.static(domain="acme.us.auth0.com:99999"),
        E + "Setting 'domain' is not a valid domain: 'acme.us.auth0.com:99999' "
        "(Port out of range 0-65535)",
        2,
    ),
    Bad(
        "tenant-missing-with-a-loopback-domain",
        lambda e: {"domain": e.base, "access_token": TOKEN},
        E + "Setting 'tenant' is required: the domain {host} does not name the tenant (only "
        "<tenant>.auth0.com and <tenant>.<region>.auth0.com do); set tenant to the tenant's "
        "name, e.g. acme",
        2,
    ),
    Bad(
        "tenant-missing-with-a-custom-domain",
        lambda e: {"domain": "login.acme.com", "access_token": TOKEN},
        E + "Setting 'tenant' is required: the domain login.acme.com does not name the tenant "
        "(only <tenant>.auth0.com and <tenant>.<region>.auth0.com do); set tenant to the "
        "tenant's name, e.g. acme",
        2,
    ),
    Bad(
        "tenant-not-a-name",
        lambda e: e.static(tenant="acme eu"),
        E + "Setting 'tenant' must be a tenant name: letters, digits, '-' or '_', at most 64 "
        "characters (got 'acme eu')",
        2,
    ),
    Bad(
        "state-of-another-tenant",
        lambda e: e.static(),
        E + "The state belongs to tenant 'acme-eu' while this run is tenant 'sandbox': give "
        "each tenant its own extractor, state id and schema (see Several tenants in the README)",
        2,
        state={"tenant": "acme-eu", "bookmarks": {}},
    ),
    Bad(
        "both-auth-modes",
        lambda e: e.cc(access_token=TOKEN),
        E + "Set either 'access_token' or 'client_id' + 'client_secret', not both",
        2,
    ),
    Bad(
        "neither-auth-mode",
        lambda e: {"domain": e.base, "tenant": "sandbox"},
        E + "No credentials: set 'access_token', or 'client_id' and 'client_secret'",
        2,
    ),
    Bad(
        "client-id-without-secret",
        lambda e: {"domain": e.base, "tenant": "sandbox", "client_id": CLIENT_ID},
        E + "Setting 'client_secret' is required with client credentials",
        2,
    ),
    Bad(
        "access-token-not-a-string",
        lambda e: {"domain": e.base, "tenant": "sandbox", "access_token": 42},
        E + "Setting 'access_token' must be a string",
        2,
    ),
    Bad(
        "audience-not-a-url",
        lambda e: e.cc(audience="management-api"),
        E + "Setting 'audience' must be a URL such as {base}/api/v2/",
        2,
    ),
    Bad(
        "page-size-zero",
        lambda e: e.static(page_size=0),
        E + "Setting 'page_size' must be between 1 and 100 (got 0)",
        2,
    ),
    Bad(
        "page-size-above-auth0-max",
        lambda e: e.static(page_size=500),
        E + "Setting 'page_size' must be between 1 and 100 (got 500)",
        2,
    ),
    Bad(
        "page-size-not-a-number",
        lambda e: e.static(page_size="lots"),
        E + "Setting 'page_size' must be an integer (got 'lots')",
        2,
    ),
    Bad(
        "sort-unsupported",
        lambda e: e.static(sort="email:1"),
        E + "Setting 'sort' must be one of updated_at:1, created_at:1 (got 'email:1')",
        2,
    ),
    Bad(
        "start-date-not-a-date",
        lambda e: e.static(start_date="last tuesday"),
        E + "Setting 'start_date' is not an ISO 8601 date or date-time: 'last tuesday'",
        2,
    ),
    Bad(
        "fields-with-a-bad-name",
        lambda e: e.static(fields="email,given name"),
        E + "Setting 'fields' has an invalid field name: 'given name'",
        2,
    ),
    Bad(
        "fields-broken-json-array",
        lambda e: e.static(fields='["email", '),
        E + "Setting 'fields' looks like a JSON array but does not parse: '[\"email\",'",
        2,
    ),
    Bad(
        "include-totals-not-boolean",
        lambda e: e.static(include_totals="maybe"),
        E + "Setting 'include_totals' must be true or false (got 'maybe')",
        2,
    ),
    Bad(
        "max-concurrency-zero",
        lambda e: e.static(max_concurrency=0),
        E + "Setting 'max_concurrency' must be between 1 and 64 (got 0)",
        2,
    ),
    Bad(
        "max-requests-per-second-negative",
        lambda e: e.static(max_requests_per_second=-1),
        E + "Setting 'max_requests_per_second' must be greater than 0 (got -1)",
        2,
    ),
    Bad(
        "users-extraction-unknown",
        lambda e: e.static(users_extraction="dump"),
        E + "Setting 'users_extraction' must be one of search, export, auto (got 'dump')",
        2,
    ),
    Bad(
        "export-with-search-query",
        lambda e: e.static(users_extraction="export", search_query="email:x"),
        E + "Setting 'search_query' cannot be honoured by users_extraction=export (export jobs "
        "take no query, projection or date filter); unset it or use users_extraction=search "
        "or auto",
        2,
    ),
    Bad(
        "connection-with-a-quote",
        lambda e: e.static(connection='db"x'),
        E + "Setting 'connection' must be a connection name (got 'db\"x')",
        2,
    ),
    Bad(
        "config-file-missing",
        lambda e: None,
        E + "--config {tmp}/nope.json: no such file",
        2,
        args=("--config", "{tmp}/nope.json"),
    ),
    Bad(
        "config-file-not-json",
        lambda e: None,
        E + "--config {tmp}/config.json is not valid JSON (Expecting property name enclosed "
        "in double quotes, line 1 column 19)",
        2,
        raw_config='{"domain": "acme",',
    ),
    Bad(
        "config-file-a-list",
        lambda e: None,
        E + "--config {tmp}/config.json must hold a JSON object",
        2,
        raw_config='["acme.us.auth0.com"]',
    ),
    Bad(
        "state-file-not-json",
        lambda e: e.static(),
        E + "--state {tmp}/state.json is not valid JSON (Expecting value, line 1 column 1)",
        2,
        args=("--state", "{tmp}/state.json"),
        files={"state.json": "bookmarks: none"},
    ),
    Bad(
        "state-bookmark-not-a-timestamp",
        lambda e: e.static(),
        E + "state bookmark of 'users' is not an ISO 8601 date or date-time: 'yesterday'",
        2,
        state={
            "bookmarks": {
                "users": {"replication_key": "updated_at", "replication_key_value": "yesterday"}
            }
        },
    ),
    Bad(
        "search-query-unknown-field",
        lambda e: e.static(search_query="favourite:tea"),
        QUERY_REJECTED.format(error="field 'favourite' is not searchable", query="favourite:tea"),
        2,
    ),
    Bad(
        "search-query-bad-syntax",
        lambda e: e.static(search_query="email:(a OR"),
        QUERY_REJECTED.format(error="operator OR without right operand", query="email:(a OR"),
        2,
    ),
    # -- authentication and authorisation (exit 3) ---------------------------------------------
    Bad(
        "wrong-audience",
        lambda e: e.cc(audience="https://acme.us.auth0.com/api/v2/"),
        E + "Wrong audience 'https://acme.us.auth0.com/api/v2/': Auth0 says 'Service not "
        "enabled within domain: https://acme.us.auth0.com/api/v2/'; set 'audience' to the "
        "Management API identifier, normally {base}/api/v2/",
        3,
    ),
    Bad(
        "bad-client-secret",
        lambda e: e.cc(client_secret="not-the-secret-123"),
        E + "Bad credentials: {host}/oauth/token refused 'client_id'/'client_secret' "
        "(401: Unauthorized)",
        3,
    ),
    Bad(
        "bad-client-secret-connection-test",
        lambda e: e.cc(client_secret="not-the-secret-123"),
        E + "Bad credentials: {host}/oauth/token refused 'client_id'/'client_secret' "
        "(401: Unauthorized)",
        3,
        args=("--test",),
    ),
    Bad(
        "unknown-static-token",
        lambda e: e.static(access_token="pasted-wrong-token"),
        E + "Auth0 refused the request (401: Invalid token); check 'access_token' (or "
        "'client_id'/'client_secret') and 'domain'",
        3,
    ),
    Bad(
        # An opaque token: its scopes are learnt from Auth0's 403 (a JWT's are read first;
        # tests/integration/test_run_plan.py).
        "insufficient-scope",
        lambda e: e.static(),
        E + "Auth0 refused the request (403 insufficient_scope: Insufficient scope, expected "
        "any of: read:users,read:current_user,read:user_idp_tokens); grant the application "
        "the read:users scope on the Management API",
        3,
        fresh=lambda sb: sb.configure(static_scopes="openid"),
    ),
    Bad(
        "insufficient-scope-in-the-token",
        lambda e: e.cc(),
        E + "The token cannot read 1 selected stream(s): logs (needs read:logs). Grant "
        "read:logs to the application on the Management API, or deselect the stream(s)",
        3,
        fresh=lambda sb: sb.configure(scopes=" ".join(s for s in READ_SCOPES if s != "read:logs")),
    ),
    Bad(
        "expired-static-token",
        lambda e: e.static(),
        E + "The Management API token in 'access_token' has expired; paste a new one or use "
        "'client_id' + 'client_secret' so the tap can renew it",
        3,
        fresh=lambda sb: sb.expire_tokens(),
    ),
    Bad(
        "token-endpoint-answers-no-token",
        lambda e: e.cc(),
        E + "POST /oauth/token on {host} answered without an access_token; check 'domain' "
        "points at the tenant",
        3,
        stub=lambda s: Reply(200, {"token_type": "Bearer"}),
    ),
    # -- answers the tap cannot use (exit 4) ----------------------------------------------------
    Bad(
        "html-login-page",
        lambda e: e.static(),
        E + "GET /api/v2/users: expected JSON from {host} but got text/html; charset=utf-8 "
        "(200): '<html><body><h1>Sign in</h1></body></html>'; check 'domain' points at the "
        "tenant",
        4,
        stub=html(200),
    ),
    Bad(
        "proxy-502-html-persistent",
        lambda e: e.static(max_retries=1),
        E + "GET /api/v2/users: Auth0 answered 502 (an HTML page '502 Bad Gateway', not "
        "Auth0's JSON: a proxy in between?) 2 times; giving up (setting 'max_retries' is 1)",
        4,
        stub=html(502, "<html><head><title>502 Bad Gateway</title></head></html>"),
    ),
    Bad(
        "malformed-json",
        lambda e: e.static(max_retries=1),
        E + "GET /api/v2/users: {host} sent malformed JSON (26 bytes) 2 times; giving up "
        "(setting 'max_retries' is 1)",
        4,
        stub=lambda s: Reply(200, b'{"users": [{"user_id": "a"', {**JSON, **RATE}),
    ),
    Bad(
        "json-sent-as-text-plain",
        lambda e: e.static(),
        E + "GET /api/v2/users: expected JSON from {host} but got text/plain (200): '[]'; "
        "check 'domain' points at the tenant",
        4,
        stub=lambda s: Reply(200, b"[]", {"Content-Type": "text/plain", **RATE}),
    ),
    Bad(
        "json-object-without-users",
        lambda e: e.static(),
        E + "GET /api/v2/users: object answer without a 'users' list",
        4,
        stub=lambda s: Reply(200, {"items": [], "total": 0}, RATE),
    ),
    Bad(
        "not-found-on-the-whole-api",
        lambda e: e.static(),
        E + "GET /api/v2/users: Auth0 answered 404: Not Found; " + NO_API,
        4,
        stub=lambda s: Reply(404, NOT_FOUND),
    ),
    Bad(
        "not-found-html-website",
        lambda e: e.static(),
        E + "GET /api/v2/users: Auth0 answered 404: <h1>Not Found</h1>; " + NO_API,
        4,
        stub=html(404, "<h1>Not Found</h1>"),
    ),
    Bad(
        "token-endpoint-not-found",
        lambda e: e.cc(),
        E + "POST /oauth/token: Auth0 answered 404: Not Found; " + NO_API,
        4,
        stub=lambda s: Reply(404, NOT_FOUND),
    ),
    Bad(
        "persistent-5xx",
        lambda e: e.static(max_retries=2),
        E + "GET /api/v2/users: Auth0 answered 502 (Bad Gateway) 3 times; giving up "
        "(setting 'max_retries' is 2)",
        4,
        fresh=lambda sb: sb.configure(fault_5xx_rate=1.0),
    ),
    Bad(
        "bad-request-400",
        lambda e: e.static(),
        E + "GET /api/v2/users: Auth0 answered 400 invalid_paging: You can only page through "
        "the first 1000 records.",
        4,
        stub=on_users(
            Reply(
                400,
                {
                    "statusCode": 400,
                    "error": "Bad Request",
                    "message": "You can only page through the first 1000 records.",
                    "errorCode": "invalid_paging",
                },
            )
        ),
    ),
    Bad(
        "export-job-failed",
        lambda e: e.static(users_extraction="export"),
        E + "Export job {job} failed: The export job failed: an internal error occurred.",
        4,
        fresh=lambda sb: sb.configure(export_fail=True, export_seconds=0.2),
    ),
    Bad(
        "export-download-truncated",
        lambda e: e.static(users_extraction="export"),
        E + "Export job {job}: download failed 4 times (the file is truncated (gzip stream "
        "ended early)) after {n} records",
        4,
        fresh=lambda sb: sb.configure(export_truncate=True, export_seconds=0.2),
    ),
    # -- network (exit 5) -----------------------------------------------------------------------
    Bad(
        "connection-refused",
        lambda e: e.static(domain=f"http://127.0.0.1:{free_port()}", max_retries=1),
        E + "Cannot reach {host} (GET /api/v2/users) after 2 attempts: connection refused; "
        "check 'domain'",
        5,
    ),
    Bad(
        "domain-does-not-resolve",
        lambda e: e.static(domain="tenant.invalid", max_retries=1),
        E + "Cannot reach tenant.invalid (GET /api/v2/users) after 2 attempts: the domain does "
        "not resolve (DNS); check 'domain'",
        5,
    ),
    Bad(
        "tls-to-a-plain-http-port",
        lambda e: e.static(domain=e.base.replace("http://", "https://")),
        E + "Cannot reach {host}: TLS failed ([SSL: WRONG_VERSION_NUMBER] wrong version "
        "number); check 'domain' and its port",
        5,
    ),
    Bad(
        "read-timeout",
        lambda e: e.static(request_timeout=1, max_retries=0),
        E + "Cannot reach {host} (GET /api/v2/users) after 1 attempt: timed out after 1s "
        "(setting 'request_timeout')",
        5,
        stub=lambda s: Reply(200, [], JSON, hang=1.5),
    ),
    Bad(
        "connection-reset-persistent",
        lambda e: e.static(max_retries=1),
        E + "Cannot reach {host} (GET /api/v2/users) after 2 attempts: the connection was "
        "closed without an answer",
        5,
        fresh=lambda sb: sb.configure(fault_reset_rate=1.0),
    ),
    # -- not an error: a warning, exit 0 --------------------------------------------------------
    Bad(
        "unknown-user-id",
        lambda e: e.static(user_ids=["auth0|does-not-exist"]),
        "Unknown user id 'auth0|does-not-exist' (404 inexistent_user); skipped",
        0,
    ),
]
CREDS = {"access_token": TOKEN, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
UNKNOWN = "is not a tap-auth0 setting and is ignored"


@dataclass
class Outcome:
    code: int
    stderr: str
    tmp: Path


def run_row(sb: Sandbox, row: Bad, tmp: Path) -> Outcome:
    own = None
    if row.fresh is not None:
        own = Sandbox(SandboxConfig(users=50, seed=8, **CREDS)).start()
        row.fresh(own)
    stub = StubServer(row.stub) if row.stub else None
    env = Env(own or sb, stub, tmp)
    for name, content in row.files.items():
        (tmp / name).write_text(content)
    try:
        args = tuple(a.replace("{tmp}", str(tmp)) for a in row.args)
        proc = run_cli(
            row.config(env), *args, state=row.state, raw_config=row.raw_config, timeout=RUN_TIMEOUT
        )
    finally:
        if stub:
            stub.close()
        if own:
            own.stop()
    return Outcome(proc.returncode, proc.stderr, tmp)


@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Every selected row, run 4 at a time (each is a process start, mostly CPU)."""
    selected = [
        item.callspec.params["row"]
        for item in request.session.items
        if getattr(item, "callspec", None) and isinstance(item.callspec.params.get("row"), Bad)
    ]
    with (
        Sandbox(SandboxConfig(users=300, seed=8, **CREDS)) as sb,
        ThreadPoolExecutor(max_workers=4) as pool,
    ):
        futures = {
            row.id: pool.submit(run_row, sb, row, tmp_path_factory.mktemp(row.id))
            for row in selected
        }
        yield {rid: future.result() for rid, future in futures.items()}


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_bad_input_is_answered_in_one_clear_line(row: Bad, outcomes: dict[str, Outcome]) -> None:
    out = outcomes[row.id]
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    if row.code == 0:
        assert "tap-auth0: error" not in out.stderr
        line = next((x for x in stderr_lines(out.stderr) if x == row.expect), "")
    else:
        line = normalise(last_stderr_line(out.stderr), out.tmp)
    assert (out.code, line) == (row.code, row.expect), out.stderr[-2000:]


def test_a_misspelled_setting_is_named_once_and_the_sdks_own_are_known() -> None:
    """`start_data` used to run a full extraction without a word: now one WARNING names it
    and the setting meant. The SDK's settings (stream maps, flattening, batch, faker) and
    `_`-prefixed extras are not strangers."""
    with Sandbox(SandboxConfig(users=40, seed=8, **CREDS)) as sb:
        config = {
            "domain": sb.base_url,
            "tenant": "sandbox",
            "access_token": TOKEN,
            "start_data": "2024-01-01T00:00:00Z",
            "stream_maps": {"users": {"picture": None}},
            "stream_map_config": {},
            "flattening_enabled": False,
            "flattening_max_depth": 1,
            "batch_config": None,
            "faker_config": {"seed": 1},
            "_comment": "left alone",
        }
        proc = run_cli(config, catalog=catalog_selecting(config, {"users"}), timeout=RUN_TIMEOUT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    warned = [line for line in proc.stderr.splitlines() if UNKNOWN in line]
    assert [x for x in stderr_lines("\n".join(warned))] == [
        f"Setting 'start_data' {UNKNOWN} (did you mean 'start_date'?)"
    ]
    assert " | WARNING " in warned[0]
    assert len(record_ids(parse(proc.stdout), "users")) == 40  # the run itself goes on


def test_the_table_is_broad() -> None:
    codes = Counter(r.code for r in ROWS)
    report(
        f"bad input: {len(ROWS)} single-run rows (exit 2: {codes[2]}, 3: {codes[3]}, "
        f"4: {codes[4]}, 5: {codes[5]}, 0: {codes[0]}) + {len(MID_RUN)} mid-run failures "
        "resumed without loss; each pins the last stderr line"
    )
    assert len(ROWS) >= 25 and all(codes[c] for c in (0, 2, 3, 4, 5))


# -- failures in the middle of a run: nothing extracted is lost -------------------------------
@dataclass
class MidRun:
    id: str
    fault: t.Callable[[Seen], Reply | None] | None  # answers some requests instead
    expect: str
    code: int
    extra: dict[str, t.Any] = field(default_factory=dict)
    expire_tokens: bool = False  # instead of a fault: every token expires


def listing_only(reply: Reply) -> t.Callable[[Seen], Reply | None]:
    """Fault the listing (GET /api/v2/users?...) only: the user sees a stable line."""
    return lambda seen: reply if seen.path.startswith("/api/v2/users?") else None


MID_RUN = [
    MidRun(
        "5xx-from-then-on",
        listing_only(Reply(503, {"statusCode": 503, "message": "Service Unavailable"}, RATE)),
        E + "GET /api/v2/users: Auth0 answered 503 (Service Unavailable) 2 times; giving up "
        "(setting 'max_retries' is 1)",
        4,
        {"max_retries": 1},
    ),
    MidRun(
        "html-error-page",
        listing_only(Reply(200, "<html>Maintenance</html>", {"Content-Type": "text/html"})),
        E + "GET /api/v2/users: expected JSON from {host} but got text/html (200): "
        "'<html>Maintenance</html>' 2 times; giving up (setting 'max_retries' is 1); check "
        "'domain' points at the tenant",
        4,
        {"max_retries": 1},
    ),
    MidRun(
        "malformed-json",
        listing_only(Reply(200, b'{"users": [', {**JSON, **RATE})),
        E + "GET /api/v2/users: {host} sent malformed JSON (11 bytes) 2 times; giving up "
        "(setting 'max_retries' is 1)",
        4,
        {"max_retries": 1},
    ),
    MidRun(
        "api-gone-404",
        listing_only(Reply(404, NOT_FOUND, RATE)),
        E + "GET /api/v2/users: Auth0 answered 404: Not Found; " + NO_API,
        4,
    ),
    MidRun(
        "connection-resets",
        listing_only(Reply(reset=True)),
        E + "Cannot reach {host} (GET /api/v2/users) after 2 attempts: the connection was "
        "closed without an answer",
        5,
        {"max_retries": 1},
    ),
    MidRun(
        "detail-5xx",
        lambda s: (
            Reply(500, {"statusCode": 500, "message": "Boom"}, RATE)
            if s.path.startswith("/api/v2/users/")
            else None
        ),
        E + "GET /api/v2/users/{id}: Auth0 answered 500 (Boom) 2 times; giving up (setting "
        "'max_retries' is 1)",
        4,
        {"max_retries": 1},
    ),
    MidRun(  # last: it expires the static token for good
        "static-token-expires",
        None,
        E + "The Management API token in 'access_token' has expired; paste a new one or use "
        "'client_id' + 'client_secret' so the tap can renew it",
        3,
        expire_tokens=True,
    ),
]


@pytest.fixture(scope="module")
def mid_sb() -> t.Iterator[Sandbox]:
    with Sandbox(SandboxConfig(users=USERS, seed=12, **CREDS)) as sandbox:
        yield sandbox


@pytest.mark.parametrize("case", MID_RUN, ids=lambda c: c.id)
def test_failure_mid_run_keeps_what_was_extracted(mid_sb: Sandbox, case: MidRun) -> None:
    """The fault strikes after the STATE at 1000 users: the run fails with the pinned
    line, and a run resumed from its last STATE delivers every remaining user."""
    sb = mid_sb
    config = {"domain": sb.base_url, "tenant": "sandbox", "access_token": TOKEN, **case.extra}
    undo: list[t.Callable[[], None]] = []

    def strike(proc: t.Any) -> None:
        if case.expire_tokens:
            sb.expire_tokens()
        else:
            assert case.fault is not None
            undo.append(intercept(sb, case.fault))

    def after_state(p: Progress) -> bool:
        return p.states >= 1 and p.counts["users"] >= 1050

    try:
        failed = run_streamed(
            config,
            catalog=catalog_adding(config, {"user_detail"}),
            trigger=after_state,
            action=strike,
        )
    finally:
        for fn in undo:
            fn()
    assert failed.fired
    line = normalise(last_stderr_line(failed.stderr))
    assert (failed.returncode, line) == (case.code, case.expect), failed.stderr[-2000:]
    assert "Traceback" not in failed.stderr
    state = failed.last_state
    assert state and state["bookmarks"]["users"].get("replication_key_value")
    if case.expire_tokens:  # the static token is dead: resume with client credentials
        config = {
            "domain": sb.base_url,
            "tenant": "sandbox",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
    resumed = run_streamed(config, state=state, catalog=catalog_adding(config, {"user_detail"}))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    truth = {u["user_id"] for u in sb.truth()}
    for stream in ("users", "user_detail"):
        got = record_ids(failed.committed(), stream) | record_ids(resumed.msgs, stream)
        assert got == truth, f"{stream}: {len(truth - got)} users lost"
    kept = len(record_ids(failed.committed(), "users"))
    report(
        f"mid-run {case.id}: exit {failed.returncode} after {kept} users committed; resumed "
        f"from the STATE, {len(record_ids(resumed.msgs, 'users'))} more; nothing lost"
    )
