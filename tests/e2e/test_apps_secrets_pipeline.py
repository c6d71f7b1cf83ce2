"""Applications, connections, APIs, grants, actions, log streams and the per-user streams
through Meltano into PostgreSQL, with the sandbox's planted secrets in every raw answer.

Two tenants (module-scoped, parametrized):
  - ``client_keys``: default knobs, but the token is granted ``read:client_keys`` too, so
    Auth0 would send client secrets unless the tap's projection asks it not to;
  - ``ignore_exclusions``: ``ignore_field_exclusions=true``, Auth0 sends every secret
    whatever ``fields`` says (only the tap's second, stripping layer protects).

For each: the raw answers do hold secrets (so the checks below can fail); the tap CLI at
DEBUG with every stream selected (the opt-in per-user ones too) prints none of them on
stdout or stderr; `meltano run tap-auth0 target-postgres` at DEBUG with
``select: ["*.*"]`` lands none in any column of any table, nor prints one; and the tables
equal ``sb.tenant_truth()``. Last, the deleted users' per-user rows leave PostgreSQL after
a ``--full-refresh`` run (ACTIVATE_VERSION of the per-user streams, hard_delete on).
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from auth0_sandbox import Sandbox, SandboxConfig
from auth0_sandbox.auth import READ_SCOPES

from tests.support import postgres
from tests.support.cli import run_cli
from tests.support.figures import report
from tests.support.meltano import (
    ACCESS_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    MeltanoRunner,
    need_meltano,
)
from tests.support.messages import parse
from tests.support.postgres import sqlalchemy_url
from tests.support.warehouse import assert_tables_equal, js, query

USERS, SEED = 300, 11
MARKER = "SBXSECRET"

# variant -> sandbox knobs
VARIANTS: dict[str, dict[str, Any]] = {
    "client_keys": {"scopes": " ".join([*READ_SCOPES, "read:client_keys"])},
    "ignore_exclusions": {"ignore_field_exclusions": True},
}
CLIENT_SECRET_FIELDS = (
    "client_secret",
    "signing_keys",
    "encryption_key",
    "client_authentication_methods",
    "addons",
)
# Log-stream sink keys that say where logs go (docs/streams.md "No secret lands"); all others are
# credentials and must not land.
SINK_NON_SECRET = frozenset(
    {
        "httpEndpoint",
        "httpContentType",
        "httpContentFormat",
        "datadogRegion",
        "splunkDomain",
        "splunkPort",
        "splunkSecure",
        "awsAccountId",
        "awsRegion",
        "awsPartnerEventSource",
        "azureSubscriptionId",
        "azureResourceGroup",
        "azureRegion",
        "azurePartnerTopic",
        "mixpanelRegion",
        "mixpanelProjectId",
        "mixpanelServiceAccountUsername",
    }
)

Key = tuple[str, ...]
Truth = dict[str, Any]

# table -> primary key columns (the tap's stream primary keys)
KEYS: dict[str, tuple[str, ...]] = {
    "clients": ("client_id",),
    "client_grants": ("id",),
    "grants": ("id",),
    "resource_servers": ("id",),
    "connections": ("id",),
    "connection_clients": ("connection_id", "client_id"),
    "actions": ("id",),
    "log_streams": ("id",),
    "user_permissions": ("user_id", "resource_server_identifier", "permission_name"),
    "user_authentication_methods": ("user_id", "id"),
    "user_sessions": ("user_id", "id"),
    "user_refresh_tokens": ("user_id", "id"),
}
PER_USER = ("user_permissions", "user_authentication_methods", "user_sessions")
PER_USER += ("user_refresh_tokens",)
TIMESTAMP_COLUMNS = frozenset({"expires_at", "created_at"})


def expected(tt: Truth) -> dict[str, dict[Key, dict[str, Any]]]:
    """Per table: primary key -> the value columns checked, from `sb.tenant_truth()`."""
    out: dict[str, dict[Key, dict[str, Any]]] = {t: {} for t in KEYS}
    for c in tt["clients"]:
        out["clients"][(c["client_id"],)] = {"name": c["name"], "app_type": c.get("app_type")}
    for g in tt["client_grants"]:
        out["client_grants"][(g["id"],)] = {"client_id": g["client_id"], "audience": g["audience"]}
    for g in tt["grants"]:
        out["grants"][(g["id"],)] = {
            "client_id": g["clientID"],
            "user_id": g["user_id"],
            "audience": g["audience"],
        }
    for r in tt["resource_servers"]:
        out["resource_servers"][(r["id"],)] = {"identifier": r["identifier"], "name": r["name"]}
    for c in tt["connections"]:
        out["connections"][(c["id"],)] = {"name": c["name"], "strategy": c["strategy"]}
    for cid, clients in tt["connection_clients"].items():
        for c in clients:
            out["connection_clients"][(cid, c["client_id"])] = {}
    for a in tt["actions"]:
        out["actions"][(a["id"],)] = {"name": a["name"]}
    for s in tt["log_streams"]:
        sink = {k: v for k, v in (s.get("sink") or {}).items() if k in SINK_NON_SECRET}
        out["log_streams"][(s["id"],)] = {"name": s["name"], "type": s["type"], "sink": sink}
    for uid, perms in tt["user_permissions"].items():
        for p in perms:
            key = (uid, p["resource_server_identifier"], p["permission_name"])
            out["user_permissions"][key] = {"resource_server_name": p["resource_server_name"]}
    for uid, methods in tt["user_authentication_methods"].items():
        for m in methods:
            out["user_authentication_methods"][(uid, m["id"])] = {"type": m["type"]}
    for uid, sessions in tt["user_sessions"].items():
        for s in sessions:
            out["user_sessions"][(uid, s["id"])] = {"expires_at": s.get("expires_at")}
    for uid, tokens in tt["user_refresh_tokens"].items():
        for r in tokens:
            out["user_refresh_tokens"][(uid, r["id"])] = {
                "client_id": r["client_id"],
                "rotating": r["rotating"],
            }
    return out


# -- secrets ----------------------------------------------------------------------------------
def secret_pieces(secrets: list[str]) -> set[str]:
    """What must not appear anywhere: the marker, each whole secret, each secret's unique
    token with and without the marker, and the random base64 body lines of keys/certs."""
    pieces = {MARKER, *secrets}
    for s in secrets:
        for token in re.findall(re.escape(MARKER) + r"(_\w+)", s):
            pieces |= {MARKER + token, token}
        for line in re.split(r"[\r\n]+", s):
            if len(line) >= 32 and re.fullmatch(r"[A-Za-z0-9+/=]+", line):
                pieces.add(line)
    return pieces


def leaks(text: str, pieces: set[str]) -> list[str]:
    return sorted(p[:40] for p in pieces if p in text)


# -- the raw API ------------------------------------------------------------------------------
def mint_token(sb: Sandbox) -> str:
    body = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "audience": sb.audience,
        }
    ).encode()
    with urllib.request.urlopen(f"{sb.base_url}/oauth/token", body, timeout=30) as resp:
        return json.load(resp)["access_token"]


def raw_get(sb: Sandbox, token: str, path: str, **params: str) -> str:
    query_string = f"?{urllib.parse.urlencode(params)}" if params else ""
    req = urllib.request.Request(
        f"{sb.base_url}/api/v2{path}{query_string}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.read().decode()


# -- the module's runs ------------------------------------------------------------------------
def full_catalog(config: dict[str, Any]) -> dict[str, Any]:
    """`tap-auth0 --discover` with `selected: true` on every stream and property."""
    proc = run_cli(config, "--discover")
    assert proc.returncode == 0, proc.stderr[-2000:]
    catalog = json.loads(proc.stdout)
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            entry["metadata"]["selected"] = True
    return catalog


@dataclass
class Loaded:
    variant: str
    sandbox: Sandbox
    meltano: MeltanoRunner
    uri: str
    schema: str
    truth: Truth
    secrets: list[str]
    raw: dict[str, str]  # label -> raw answer text
    cli_stdout: str = ""
    cli_stderr: str = ""
    cli_seconds: float = 0.0
    cli_counts: Counter = field(default_factory=Counter)
    requests: dict[str, int] = field(default_factory=dict)  # by endpoint, CLI run
    meltano_output: str = ""
    meltano_seconds: float = 0.0
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    texts: dict[str, list[str]] = field(default_factory=dict)  # every row cast to text
    columns: dict[str, set[str]] = field(default_factory=dict)

    def run_meltano(self, *extra: str) -> float:
        started = time.monotonic()
        proc = self.meltano("run", *extra, "tap-auth0", "target-postgres")
        self.meltano_output = proc.stdout + proc.stderr
        return time.monotonic() - started

    def read(self) -> None:
        cols = query(
            "postgres",
            self.uri,
            "SELECT table_name, column_name FROM information_schema.columns"
            f" WHERE table_schema = '{self.schema}'",
        )[0]
        columns: dict[str, set[str]] = {}
        for c in cols:
            columns.setdefault(c["table_name"], set()).add(c["column_name"])
        names = sorted(columns)
        sql = [f'SELECT * FROM "{self.schema}"."{t}"' for t in KEYS]
        sql += [f'SELECT t::text AS row FROM "{self.schema}"."{t}" AS t' for t in names]
        results = query("postgres", self.uri, *sql)
        self.columns = columns
        self.tables = dict(zip(KEYS, results[: len(KEYS)], strict=True))
        self.texts = {
            t: [r["row"] for r in rows] for t, rows in zip(names, results[len(KEYS) :], strict=True)
        }


@pytest.fixture(scope="module", params=list(VARIANTS))
def loaded(
    request: pytest.FixtureRequest, pg_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Loaded]:
    need_meltano()
    variant: str = request.param
    cfg = SandboxConfig(
        users=USERS,
        seed=SEED,
        access_token=ACCESS_TOKEN,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        secret_marker=MARKER,
        **VARIANTS[variant],
    )
    workdir: Path = tmp_path_factory.mktemp(f"apps-secrets-{variant}")
    with Sandbox(cfg) as sb, postgres.scratch_schema(pg_uri) as schema:
        # What Auth0 answers with the runner's token, before the tap asks for anything.
        token = mint_token(sb)
        raw = {
            "clients": raw_get(sb, token, "/clients"),
            "clients projected": raw_get(
                sb,
                token,
                "/clients",
                fields=",".join(CLIENT_SECRET_FIELDS),
                include_fields="false",
            ),
            "connections": raw_get(sb, token, "/connections"),
            "connections projected": raw_get(
                sb, token, "/connections", fields="options", include_fields="false"
            ),
        }
        meltano = MeltanoRunner(workdir, sb.base_url)
        meltano.env["TAP_AUTH0_PG_URI"] = sqlalchemy_url(pg_uri)
        meltano.env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"] = schema
        meltano.env["TARGET_POSTGRES_HARD_DELETE"] = "true"
        meltano.env["TAP_AUTH0__SELECT"] = json.dumps(["*.*"])
        # Meltano hands its own log level to the SDK plugins (a logging config file): the
        # tap and the target log at DEBUG too.
        meltano.env["MELTANO_CLI_LOG_LEVEL"] = "debug"
        state = Loaded(
            variant, sb, meltano, pg_uri, schema, sb.tenant_truth(), sb.planted_secrets(), raw
        )

        # 1. the tap CLI at DEBUG, every stream selected
        config = {
            "domain": sb.base_url,
            "tenant": "sandbox",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
        catalog = full_catalog(config)
        sb.reset_stats()
        started = time.monotonic()
        proc = run_cli(config, catalog=catalog, env={"TAP_AUTH0_LOGLEVEL": "DEBUG"})
        state.cli_seconds = time.monotonic() - started
        assert proc.returncode == 0, proc.stderr[-3000:]
        state.requests = sb.stats()["by_endpoint"]
        state.cli_stdout, state.cli_stderr = proc.stdout, proc.stderr
        state.cli_counts = Counter(m["stream"] for m in parse(proc.stdout) if m["type"] == "RECORD")

        # 2. meltano run tap-auth0 target-postgres, select *.*
        state.meltano_seconds = state.run_meltano()
        state.read()
        yield state


# -- tests ------------------------------------------------------------------------------------
def test_raw_answers_hold_secrets(loaded: Loaded) -> None:
    """The sandbox does send secrets: without them the leak checks below prove nothing."""
    pieces = secret_pieces(loaded.secrets)
    assert len(loaded.secrets) >= 30, loaded.secrets
    assert all(MARKER in s for s in loaded.secrets)
    found = {label: len(leaks(text, pieces)) for label, text in loaded.raw.items()}
    assert MARKER in loaded.raw["clients"], "no client secret in GET /clients (read:client_keys)"
    assert '"client_secret"' in loaded.raw["clients"]
    assert MARKER in loaded.raw["connections"], "no connection options secret in GET /connections"
    if loaded.variant == "ignore_exclusions":
        # Auth0 returning secrets anyway: the tap's own stripping is all that protects.
        assert MARKER in loaded.raw["clients projected"]
        assert MARKER in loaded.raw["connections projected"]
    else:
        # The projection the tap sends is honoured: layer one alone would do here.
        assert MARKER not in loaded.raw["clients projected"]
        assert MARKER not in loaded.raw["connections projected"]
    report(
        f"apps/secrets {loaded.variant}: {len(loaded.secrets)} planted secrets;"
        " secret pieces in raw answers: " + ", ".join(f"{label} {n}" for label, n in found.items())
    )


def test_no_secret_in_cli_output_at_debug(loaded: Loaded) -> None:
    pieces = secret_pieces(loaded.secrets)
    out, err = loaded.cli_stdout, loaded.cli_stderr
    assert " | DEBUG " in err, "DEBUG logging is not on"
    for stream in KEYS:
        assert loaded.cli_counts[stream] > 0, f"{stream}: no records: nothing was checked"
    assert not leaks(out, pieces), f"secrets on stdout: {leaks(out, pieces)[:5]}"
    assert not leaks(err, pieces), f"secrets on stderr (DEBUG): {leaks(err, pieces)[:5]}"
    report(
        f"apps/secrets {loaded.variant}: tap CLI at DEBUG, every stream selected:"
        f" {loaded.cli_seconds:.1f}s, {len(out.splitlines())} stdout lines"
        f" ({sum(loaded.cli_counts.values())} records), {len(err.splitlines())} stderr lines,"
        f" {len(pieces)} secret pieces checked, none found"
    )
    report(
        f"apps/secrets {loaded.variant}: requests per endpoint (CLI run): "
        + ", ".join(f"{e} {n}" for e, n in sorted(loaded.requests.items()))
    )


def test_no_secret_in_any_warehouse_table(loaded: Loaded) -> None:
    pieces = secret_pieces(loaded.secrets)
    assert set(KEYS) <= set(loaded.texts), f"tables missing: {set(KEYS) - set(loaded.texts)}"
    found = {
        (table, piece)
        for table, rows in loaded.texts.items()
        for row in rows
        for piece in leaks(row, pieces)
    }
    assert not found, f"secrets landed in PostgreSQL: {sorted(found)[:8]}"
    # The credential columns are not even created (or stay empty).
    credential_columns = {
        "clients": set(CLIENT_SECRET_FIELDS),
        "connections": {"options"},
        "resource_servers": {"signing_secret"},
    }
    for table, cols in credential_columns.items():
        for col in cols & loaded.columns[table]:
            filled = [r for r in loaded.tables[table] if r.get(col) not in (None, {}, [])]
            assert not filled, f"{table}.{col} holds values in {len(filled)} rows"
    for row in loaded.tables["actions"]:
        assert row.get("code") is None, f"actions.code landed for {row['id']}"
        assert "code" not in (js(row.get("deployed_version")) or {}), row["id"]
    # Meltano ran the tap at DEBUG: urllib3 logged every request, /clients included.
    assert re.search(r'"GET /api/v2/clients\b', loaded.meltano_output), "tap not at DEBUG"
    meltano_leaks = leaks(loaded.meltano_output, pieces)
    assert not meltano_leaks, f"secrets in `meltano run` output: {meltano_leaks[:5]}"
    report(
        f"apps/secrets {loaded.variant}: meltano run {loaded.meltano_seconds:.1f}s;"
        f" {len(loaded.texts)} tables, {sum(len(r) for r in loaded.texts.values())} rows,"
        f" {sum(len(c) for c in loaded.columns.values())} columns scanned as text, and"
        f" {len(loaded.meltano_output.splitlines())} lines of meltano output (DEBUG):"
        " no secret"
    )


def compare(tables: dict[str, list[dict[str, Any]]], want: dict[str, dict], label: str) -> None:
    assert_tables_equal(
        tables,
        want,
        KEYS,
        f"apps/secrets pg {label}",
        timestamps=frozenset(TIMESTAMP_COLUMNS),
        per_user=frozenset(PER_USER),
    )


def test_tables_equal_truth(loaded: Loaded) -> None:
    tt = loaded.truth
    want = expected(tt)
    # The sandbox tenant has every kind of row, and the per-user streams were read for
    # every user (a first, full pass).
    for table, keys in want.items():
        assert keys, f"the sandbox truth has no {table}"
    assert {s["type"] for s in tt["log_streams"]} >= {"http", "datadog", "splunk", "mixpanel"}
    per_user_endpoints = [e for e in loaded.requests if re.search(r"/users/\{\w+\}/", e)]
    assert len(per_user_endpoints) == 4, loaded.requests
    for endpoint in per_user_endpoints:
        assert loaded.requests[endpoint] >= USERS, (endpoint, loaded.requests[endpoint])
    compare(loaded.tables, want, f"{loaded.variant} run 1")
    # The non-secret sink keys land (compared above); say which.
    kept = sorted({k for s in loaded.tables["log_streams"] for k in js(s["sink"]) or {}})
    report(f"apps/secrets pg {loaded.variant}: log_streams sink keys landed: {kept}")
    assert "datadogRegion" in kept and "httpEndpoint" in kept


def test_deleted_user_leaves_per_user_tables(loaded: Loaded) -> None:
    """A full pass ends each per-user stream with ACTIVATE_VERSION: with hard_delete, the
    rows of users deleted in Auth0 leave every per-user table; the others stay."""
    if loaded.variant != "client_keys":
        pytest.skip("once is enough: the per-user streams do not depend on the variant")
    sb, before = loaded.sandbox, loaded.truth
    # Fewest users that have rows in all four per-user streams together.
    victims: list[str] = []
    uncovered = set(PER_USER)
    while uncovered:
        uid = max(
            sorted({u for t in uncovered for u in before[t]}),
            key=lambda u: sum(u in before[t] for t in uncovered),
        )
        victims.append(uid)
        uncovered -= {t for t in PER_USER if uid in before[t]}
    for uid in victims:
        assert sb.delete_user(uid)
    after = sb.tenant_truth()
    want = expected(after)
    old = expected(before)
    gone = {t: set(old[t]) - set(want[t]) for t in PER_USER}
    assert all(gone.values()), gone
    assert all(k[0] in victims for t in PER_USER for k in gone[t])

    seconds = loaded.run_meltano("--full-refresh")
    loaded.read()
    report(
        f"apps/secrets pg run 2 (--full-refresh, hard_delete): deleted users {victims};"
        f" meltano run {seconds:.1f}s; rows to drop: "
        + ", ".join(f"{t} {len(k)}" for t, k in gone.items())
    )
    for table in PER_USER:
        left = [r for r in loaded.tables[table] if r["user_id"] in victims]
        assert not left, f"{table}: {len(left)} rows of deleted users remain"
    compare(loaded.tables, want, "client_keys run 2")
