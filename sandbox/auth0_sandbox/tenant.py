"""Seeded tenant configuration: applications (clients), client grants, user grants, connection
options and enabled clients, resource-server settings, actions and log streams.

Shapes follow the go-auth0 recordings (TestClient_Read, TestClientGrantManager_List,
TestGrantManager_List, TestConnectionManager_*, TestResourceServer_List, TestActionManager_List,
TestLogStreamManager_*). Every secret Auth0 would send (client secrets and keys, IdP client
secrets, signing certificates and private keys, DB script source, resource-server signing
secrets, action code, log-stream sink credentials) contains ``secret_marker`` followed by a
unique suffix, so a test can grep any output for the marker (``planted_secrets``).

Everything here uses its own RNGs, so the users, roles and organizations generated before are
exactly what they were without it.
"""

from __future__ import annotations

import copy
import random
import string
import threading
from typing import Any

from .data import DAY_MS
from .directory import Seq
from .timeutil import iso_ms, now_ms

Doc = dict[str, Any]
_ALNUM = string.ascii_letters + string.digits
_HEX = "0123456789abcdef"

# Fields of a client Auth0 sends only to a token with read:client_keys.
SECRET_CLIENT_FIELDS = (
    "client_secret",
    "signing_keys",
    "encryption_key",
    "client_authentication_methods",
    "addons",
)
CLIENT_KEYS_SCOPE = "read:client_keys"

_APPS: list[tuple[str, str]] = [
    ("Customer Portal", "regular_web"),
    ("Admin Dashboard", "spa"),
    ("Mobile App", "native"),
    ("Billing Worker", "non_interactive"),
    ("Partner Extranet", "regular_web"),
    ("Reporting Service", "non_interactive"),
    ("Support Console", "spa"),
    ("Kiosk App", "native"),
]
_GRANT_TYPES = {
    "regular_web": ["authorization_code", "implicit", "refresh_token"],
    "spa": ["authorization_code", "implicit", "refresh_token"],
    "native": ["authorization_code", "implicit", "refresh_token"],
    "non_interactive": ["client_credentials"],
}
_AUTH_METHOD = {
    "regular_web": "client_secret_post",
    "spa": "none",
    "native": "none",
    "non_interactive": "client_secret_post",
}
SINK_TYPES = ("http", "datadog", "splunk", "segment", "sumo", "mixpanel", "eventbridge")
# Sink keys holding credentials (mixpanelServiceAccountPassword is masked by Auth0, as recorded).
SECRET_SINK_KEYS = (
    "httpAuthorization",
    "datadogApiKey",
    "splunkToken",
    "segmentWriteKey",
    "mixpanelServiceAccountPassword",
)
_TRIGGERS = (
    ("post-login", "v3", "exports.onExecutePostLogin = async (event, api) => {"),
    (
        "credentials-exchange",
        "v2",
        "exports.onExecuteCredentialsExchange = async (event, api) => {",
    ),
    (
        "pre-user-registration",
        "v2",
        "exports.onExecutePreUserRegistration = async (event, api) => {",
    ),
    ("post-change-password", "v2", "exports.onExecutePostChangePassword = async (event, api) => {"),
)


def _pick(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _uuid(rng: random.Random) -> str:
    h = _pick(rng, _HEX, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{rng.choice('89ab')}{h[17:20]}-{h[20:32]}"


def _iso_ns(ms: int, rng: random.Random) -> str:
    """Actions' timestamps carry nanoseconds (``2023-01-25T17:41:53.487205632Z``)."""
    return iso_ms(ms)[:-1] + f"{rng.randrange(1_000_000):06d}Z"


class Tenant:
    """Applications, grants, connections' options/clients, APIs, actions and log streams."""

    def __init__(
        self,
        seed: int,
        *,
        tenant: str,
        marker: str,
        n_clients: int,
        n_actions: int,
        n_log_streams: int,
        connections: list[Doc],
        resource_servers: list[Doc],
        user_ids: list[str],
        anchor_ms: int,
    ) -> None:
        self.lock = threading.RLock()
        self.anchor = anchor_ms
        self.marker = marker
        self.tenant = tenant
        self.domain = f"{tenant}.auth0.com"
        self.connections = connections  # shared with the store/directory; options added here
        self.resource_servers = resource_servers  # shared with the directory; settings added
        self.clients: dict[str, Doc] = {}
        self.client_order = Seq()
        self.client_grants: dict[str, Doc] = {}
        self.client_grant_order = Seq()
        self.grants: list[Doc] = []  # user grants, newest first
        self.connection_clients: dict[str, Seq] = {}
        self.actions: list[Doc] = []
        self.log_streams: list[Doc] = []
        self._secret_count = 0
        self._rng = random.Random(f"tenant:{seed}")
        self._generate(anchor_ms, n_clients, n_actions, n_log_streams, user_ids)

    # -- secrets ------------------------------------------------------------------------------
    def secret(self, kind: str, n: int = 20) -> str:
        """A fresh planted secret: ``<marker>_<kind>_<counter><random>``."""
        self._secret_count += 1
        return f"{self.marker}_{kind}_{self._secret_count:03d}{_pick(self._rng, _ALNUM, n)}"

    def pem(self, label: str, kind: str) -> str:
        body = self.secret(kind, 40)
        filler = _pick(self._rng, _ALNUM + "+/", 64)
        return f"-----BEGIN {label}-----\r\n{filler}\r\n{body}\r\n-----END {label}-----\r\n"

    # -- generation ---------------------------------------------------------------------------
    def _generate(
        self, anchor: int, n_clients: int, n_actions: int, n_streams: int, user_ids: list[str]
    ) -> None:
        rng = self._rng
        span = 365 * DAY_MS
        for i in range(n_clients):
            name, app_type = _APPS[i % len(_APPS)]
            if i >= len(_APPS):
                name = f"{name} {i // len(_APPS) + 1}"
            doc = self._client(name, app_type, rng)
            self.clients[doc["client_id"]] = doc
            self.client_order.add(doc["client_id"], anchor - rng.randrange(span))
        self._settle_resource_servers(rng)
        self._generate_client_grants(anchor, rng)
        self._generate_user_grants(anchor, user_ids, rng)
        self._settle_connections(anchor, rng)
        for i in range(n_actions):
            self.actions.append(self._action(i, anchor - rng.randrange(span), rng))
        for i in range(n_streams):
            self.log_streams.append(self._log_stream(i, rng))

    def _client(self, name: str, app_type: str, rng: random.Random) -> Doc:
        slug = name.lower().replace(" ", "-")
        interactive = app_type != "non_interactive"
        base = f"https://{slug}.example.com"
        doc: Doc = {
            "tenant": self.tenant,
            "global": False,
            "is_token_endpoint_ip_header_trusted": False,
            "name": name,
            "description": f"{name} ({app_type.replace('_', ' ')})",
            "client_id": _pick(rng, _ALNUM, 32),
            "client_secret": self.secret("client_secret", 48),
            "app_type": app_type,
            "is_first_party": True,
            "oidc_conformant": True,
            "callbacks": [f"{base}/callback"] if interactive else [],
            "allowed_origins": [base] if app_type == "spa" else [],
            "web_origins": [base] if app_type == "spa" else [],
            "allowed_logout_urls": [base] if interactive else [],
            "allowed_clients": [],
            "jwt_configuration": {
                "alg": "RS256",
                "lifetime_in_seconds": 36000,
                "secret_encoded": False,
            },
            "signing_keys": [
                {
                    "cert": self.pem("CERTIFICATE", "signing_cert"),
                    "pkcs7": self.pem("PKCS7", "signing_pkcs7"),
                    "subject": f"deprecated=CN={self.domain}",
                }
            ],
            "sso_disabled": False,
            "cross_origin_authentication": app_type == "spa",
            "custom_login_page_on": True,
            "grant_types": list(_GRANT_TYPES[app_type]),
            "token_endpoint_auth_method": _AUTH_METHOD[app_type],
            "refresh_token": {
                "rotation_type": "rotating" if app_type in ("spa", "native") else "non-rotating",
                "expiration_type": "expiring" if app_type in ("spa", "native") else "non-expiring",
                "leeway": 0,
                "token_lifetime": 2592000,
                "infinite_token_lifetime": app_type not in ("spa", "native"),
                "infinite_idle_token_lifetime": True,
                "idle_token_lifetime": 1296000,
            },
            "organization_usage": rng.choice(("deny", "allow")),
        }
        if interactive:
            doc["logo_uri"] = f"{base}/logo.png"
            doc["initiate_login_uri"] = f"{base}/login"
        if rng.random() < 0.5:
            doc["client_metadata"] = {"team": rng.choice(("web", "platform", "finance"))}
        if rng.random() < 0.5 or app_type == "regular_web":
            doc["encryption_key"] = {
                "pub": self.pem("PUBLIC KEY", "encryption_pub"),
                "cert": self.pem("CERTIFICATE", "encryption_cert"),
                "subject": f"CN={name}",
            }
        if app_type == "non_interactive":
            doc["token_endpoint_auth_method"] = rng.choice(
                ("client_secret_post", "private_key_jwt")
            )
        if doc["token_endpoint_auth_method"] == "private_key_jwt":
            del doc["token_endpoint_auth_method"]  # Auth0 drops it once credentials are used
            doc["client_authentication_methods"] = {
                "private_key_jwt": {"credentials": [{"id": "cred_" + _pick(rng, _ALNUM, 22)}]}
            }
        if app_type == "regular_web" or rng.random() < 0.3:
            doc["addons"] = {
                "samlp": {"audience": f"urn:{slug}", "signatureAlgorithm": "rsa-sha256"},
                "azure_sb": {
                    "namespace": f"{slug}-bus",
                    "sas_key_name": "RootManageSharedAccessKey",
                    "sas_key": self.secret("azure_sb_sas_key", 32),
                    "entity_path": "events",
                },
            }
        return doc

    def _settle_resource_servers(self, rng: random.Random) -> None:
        for rs in self.resource_servers:
            alg = rng.choice(("RS256", "HS256"))
            rs.update(
                {
                    "signing_alg": alg,
                    "signing_secret": self.secret("signing_secret", 32),
                    "allow_offline_access": rng.random() < 0.5,
                    "token_lifetime": rng.choice((7200, 86400)),
                    "token_lifetime_for_web": 7200,
                    "skip_consent_for_verifiable_first_party_clients": True,
                    "enforce_policies": rng.random() < 0.5,
                    "token_dialect": rng.choice(("access_token", "access_token_authz")),
                }
            )

    def _generate_client_grants(self, anchor: int, rng: random.Random) -> None:
        audiences = [
            (rs["identifier"], [s["value"] for s in rs["scopes"]]) for rs in self.resource_servers
        ]
        if not audiences:
            return
        for cid in self.client_order.ids():
            client = self.clients[cid]
            if client["app_type"] == "non_interactive":
                picks = rng.sample(audiences, min(len(audiences), rng.choice((1, 2))))
                subject = "client"
            elif rng.random() < 0.4:
                picks, subject = rng.sample(audiences, 1), "user"
            else:
                continue
            for identifier, scopes in picks:
                grant: Doc = {
                    "id": "cgr_" + _pick(rng, _ALNUM, 16),
                    "client_id": cid,
                    "audience": identifier,
                    "scope": rng.sample(scopes, rng.randint(1, min(4, len(scopes)))),
                    "subject_type": subject,
                }
                if subject == "user" and rng.random() < 0.5:
                    grant["authorization_details_types"] = ["payment", "shipping"]
                if subject == "client":
                    grant["allow_any_organization"] = rng.random() < 0.3
                self.client_grants[grant["id"]] = grant
                self.client_grant_order.add(grant["id"], anchor - rng.randrange(365 * DAY_MS))

    def _generate_user_grants(self, anchor: int, user_ids: list[str], rng: random.Random) -> None:
        interactive = [
            c for c in self.client_order.ids() if self.clients[c]["app_type"] != "non_interactive"
        ]
        if not interactive or not user_ids:
            return
        audiences = [f"https://{self.domain}/userinfo"]
        audiences += [rs["identifier"] for rs in self.resource_servers]
        count = min(len(user_ids), max(4, len(user_ids) // 100))
        stamps = sorted((anchor - rng.randrange(90 * DAY_MS) for _ in range(count)), reverse=True)
        for uid, stamp in zip(rng.sample(user_ids, count), stamps, strict=True):
            self.grants.append(
                {
                    "user_id": uid,
                    "audience": rng.choice(audiences),
                    "scope": rng.choice(
                        ([], ["openid", "profile"], ["openid", "profile", "email"])
                    ),
                    "clientID": rng.choice(interactive),
                    "id": f"{stamp // 1000:08x}" + _pick(rng, _HEX, 16),
                }
            )

    def _settle_connections(self, anchor: int, rng: random.Random) -> None:
        interactive = [
            c for c in self.client_order.ids() if self.clients[c]["app_type"] != "non_interactive"
        ]
        for conn in self.connections:
            conn["options"] = self._options(conn, rng)
            seq = Seq()
            enabled = rng.sample(
                interactive, rng.randint(min(1, len(interactive)), len(interactive))
            )
            for cid in enabled:
                seq.add(cid, anchor - rng.randrange(365 * DAY_MS))
            self.connection_clients[conn["id"]] = seq
            conn["enabled_clients"] = sorted(enabled)

    def _options(self, conn: Doc, rng: random.Random) -> Doc:
        strategy = conn["strategy"]
        if strategy == "auth0":
            db_password = self.secret("db_password", 24)
            return {
                "mfa": {"active": True, "return_enroll_settings": True},
                "passwordPolicy": "good",
                "strategy_version": 2,
                "authentication_methods": {
                    "password": {"enabled": True},
                    "passkey": {"enabled": False},
                },
                "brute_force_protection": True,
                "import_mode": True,
                "enabledDatabaseCustomization": True,
                "customScripts": {
                    "login": "function login(email, password, callback) {\n"
                    "  const pg = require('pg');\n"
                    f"  const conString = 'postgres://auth0:{db_password}@db.example.com/users';\n"
                    "  pg.connect(conString, (err, client) => callback(err));\n}",
                    "get_user": "function getByEmail(email, callback) {\n"
                    f"  const apiKey = '{self.secret('db_script_api_key', 24)}';\n"
                    "  callback(null);\n}",
                },
            }
        if strategy in ("google-oauth2", "github"):
            opts: Doc = {
                "client_id": _pick(rng, _ALNUM, 20),
                "client_secret": self.secret("idp_client_secret", 40),
                "email": True,
                "profile": True,
            }
            if strategy == "google-oauth2":
                opts["scope"] = ["email", "profile"]
                opts["allowed_audiences"] = []
            else:
                opts["scope"] = ["user:email"]
            return opts
        if strategy == "sms":
            return {
                "provider": "twilio",
                "twilio_sid": "AC" + _pick(rng, _HEX, 32),
                "twilio_token": self.secret("twilio_token", 32),
                "from": "+15555550100",
                "syntax": "md_with_macros",
                "template": "Your verification code is: @@password@@",
                "totp": {"time_step": 300, "length": 6},
                "brute_force_protection": True,
            }
        if strategy == "samlp":
            return {
                "signInEndpoint": "https://idp.acme.example.com/saml/sso",
                "signOutEndpoint": "https://idp.acme.example.com/saml/slo",
                "signatureAlgorithm": "rsa-sha256",
                "digestAlgorithm": "sha256",
                "fieldsMap": {"email": "EmailAddress", "given_name": "FirstName"},
                "cert": self.pem("CERTIFICATE", "saml_cert"),
                "signingCert": self.pem("CERTIFICATE", "saml_signing_cert"),
                "decryptionKey": {
                    "key": self.pem("PRIVATE KEY", "saml_decryption_key"),
                    "cert": self.pem("CERTIFICATE", "saml_decryption_cert"),
                },
                "thumbprints": [_pick(rng, _HEX, 40)],
                "tenant_domain": "acme.example.com",
                "strategy_version": 2,
            }
        if strategy == "waad":
            return {
                "client_id": _uuid(rng),
                "client_secret": self.secret("idp_client_secret", 40),
                "domain": "contoso.onmicrosoft.com",
                "tenant_domain": "contoso.onmicrosoft.com",
                "waad_protocol": "openid-connect",
                "identity_api": "microsoft-identity-platform-v2.0",
                "useCommonEndpoint": False,
                "thumbprints": [],
                "basic_profile": True,
                "ext_groups": False,
            }
        return {}

    def _action(self, i: int, created: int, rng: random.Random) -> Doc:
        trigger, version, head = _TRIGGERS[i % len(_TRIGGERS)]
        name = f"{trigger.replace('-', ' ').title()} Hook" + (f" {i + 1}" if i >= 4 else "")
        updated = created + rng.randrange(30 * DAY_MS)
        code = (
            f"{head}\n  const apiKey = '{self.secret('action_code', 24)}';\n"
            "  await fetch('https://hooks.example.com', { headers: { 'x-api-key': apiKey } });\n};"
        )
        deps = (
            [
                {
                    "name": "lodash",
                    "version": "4.17.21",
                    "registry_url": "https://www.npmjs.com/package/lodash",
                }
            ]
            if rng.random() < 0.5
            else []
        )
        secrets = [{"name": "API_KEY", "updated_at": _iso_ns(updated, rng)}]
        doc: Doc = {
            "id": _uuid(rng),
            "name": name,
            "supported_triggers": [{"id": trigger, "version": version}],
            "created_at": _iso_ns(created, rng),
            "updated_at": _iso_ns(updated, rng),
            "code": code,
            "dependencies": deps,
            "runtime": "node18",
            "status": "built",
            "secrets": secrets,
            "all_changes_deployed": True,
        }
        if i % 3 != 2:  # every third action was never deployed
            deployed_code = (
                code
                if rng.random() < 0.5
                else code.replace(code.split("'")[1], self.secret("action_code", 24))
            )
            doc["all_changes_deployed"] = deployed_code == code
            doc["deployed_version"] = {
                "id": _uuid(rng),
                "deployed": True,
                "number": rng.randint(1, 9),
                "built_at": _iso_ns(updated, rng),
                "code": deployed_code,
                "dependencies": copy.deepcopy(deps),
                "runtime": "node18",
                "secrets": copy.deepcopy(secrets),
                "status": "built",
                "created_at": _iso_ns(updated, rng),
                "updated_at": _iso_ns(updated, rng),
            }
        else:
            doc["all_changes_deployed"] = False
        return doc

    def _log_stream(self, i: int, rng: random.Random) -> Doc:
        kind = SINK_TYPES[i % len(SINK_TYPES)]
        sink: Doc
        if kind == "http":
            sink = {
                "httpAuthorization": f"Bearer {self.secret('http_authorization', 32)}",
                "httpContentFormat": "JSONLINES",
                "httpContentType": "application/json",
                "httpEndpoint": "https://logs.example.com/auth0",
            }
        elif kind == "datadog":
            sink = {"datadogApiKey": self.secret("datadog_api_key", 32), "datadogRegion": "eu"}
        elif kind == "splunk":
            sink = {
                "splunkDomain": "splunk.example.com",
                "splunkPort": "8088",
                "splunkToken": self.secret("splunk_token", 32),
                "splunkSecure": True,
            }
        elif kind == "segment":
            sink = {"segmentWriteKey": self.secret("segment_write_key", 32)}
        elif kind == "sumo":
            sink = {
                "sumoSourceAddress": "https://endpoint1.collection.sumologic.com/receiver/v1/http"
            }
        elif kind == "mixpanel":
            sink = {
                "mixpanelRegion": "us",
                "mixpanelProjectId": str(rng.randrange(10**8, 10**9)),
                "mixpanelServiceAccountUsername": "auth0-logs.3f2a1b.mp-service-account",
                "mixpanelServiceAccountPassword": "********",  # Auth0 masks it (recorded)
            }
        else:
            sink = {
                "awsAccountId": str(rng.randrange(10**11, 10**12)),
                "awsRegion": "us-west-2",
                "awsPartnerEventSource": (
                    f"aws.partner/auth0.com/{self.tenant}-{_uuid(rng)}/auth0.logs"
                ),
            }
        doc: Doc = {
            "id": f"lst_{12700 + i:016d}",
            "name": f"{kind.title()} stream"
            + (f" {i // len(SINK_TYPES) + 1}" if i >= len(SINK_TYPES) else ""),
            "type": kind,
            "status": rng.choice(("active", "active", "paused")),
            "sink": sink,
        }
        if rng.random() < 0.6:
            doc["filters"] = [
                {"type": "category", "name": rng.choice(("security", "auth.login.fail"))}
            ]
        doc["isPriority"] = rng.random() < 0.5
        if rng.random() < 0.5:
            doc["pii_config"] = {
                "log_fields": ["first_name"],
                "method": "mask",
                "algorithm": "xxhash",
            }
        return doc

    # -- mutations (Management API writes) ----------------------------------------------------
    def create_client(self, body: Doc) -> Doc:
        """POST /clients: a new application with a fresh planted client_secret."""
        with self.lock:
            doc = self._client(
                str(body.get("name", "")), body.get("app_type", "regular_web"), self._rng
            )
            doc.update(copy.deepcopy(body))
            self.clients[doc["client_id"]] = doc
            self.client_order.add(doc["client_id"], now_ms())
            return copy.deepcopy(doc)

    def update_client(self, client_id: str, changes: Doc) -> Doc:
        """PATCH /clients/{id}: top-level keys replaced (KeyError if unknown)."""
        with self.lock:
            doc = self.clients[client_id]
            for key, value in changes.items():
                if key != "client_id":
                    doc[key] = copy.deepcopy(value)
            return copy.deepcopy(doc)

    def delete_client(self, client_id: str) -> bool:
        """Remove a client, its client grants and its place in connections' enabled clients."""
        with self.lock:
            if self.clients.pop(client_id, None) is None:
                return False
            self.client_order.remove(client_id)
            for gid in [g for g, d in self.client_grants.items() if d["client_id"] == client_id]:
                del self.client_grants[gid]
                self.client_grant_order.remove(gid)
            for conn in self.connections:
                self._set_enabled(conn, client_id, False)
            return True

    def connection(self, conn_id: str) -> Doc:
        for conn in self.connections:
            if conn["id"] == conn_id:
                return conn
        raise KeyError(conn_id)

    def update_connection(self, conn_id: str, changes: Doc) -> Doc:
        """PATCH /connections/{id}: options replaced whole (as Auth0 does), enabled_clients
        sets the connection's clients."""
        with self.lock:
            conn = self.connection(conn_id)
            for key, value in changes.items():
                if key == "enabled_clients":
                    wanted = set(value)
                    for cid in set(conn["enabled_clients"]) | wanted:
                        self._set_enabled(conn, cid, cid in wanted)
                elif key not in ("id", "name", "strategy"):
                    conn[key] = copy.deepcopy(value)
            return copy.deepcopy(conn)

    def set_connection_clients(self, conn_id: str, changes: list[Doc]) -> None:
        """PATCH /connections/{id}/clients: ``[{client_id, status}]``."""
        with self.lock:
            conn = self.connection(conn_id)
            for change in changes:
                self._set_enabled(conn, change["client_id"], bool(change["status"]))

    def delete_connection(self, conn_id: str) -> bool:
        with self.lock:
            for i, conn in enumerate(self.connections):
                if conn["id"] == conn_id:
                    del self.connections[i]  # the list is shared: users/orgs see it go
                    self.connection_clients.pop(conn_id, None)
                    return True
            return False

    def _set_enabled(self, conn: Doc, client_id: str, on: bool) -> None:
        seq = self.connection_clients.setdefault(conn["id"], Seq())
        if on and client_id in self.clients:
            seq.add(client_id, now_ms())
        elif not on:
            seq.remove(client_id)
        conn["enabled_clients"] = sorted(seq.ids())

    # -- views ----------------------------------------------------------------------------------
    def client_list(self) -> list[Doc]:
        return [self.clients[c] for c in self.client_order.ids()]

    def truth(self, user_exists: Any) -> Doc:
        """Everything as the API serves it in full (secrets included), in API order."""
        with self.lock:
            return copy.deepcopy(
                {
                    "clients": self.client_list(),
                    "client_grants": [self.client_grants[g] for g in self.client_grant_order.ids()],
                    "connections": self.connections,
                    "connection_clients": {
                        cid: [{"client_id": c} for c in seq.ids()]
                        for cid, seq in self.connection_clients.items()
                    },
                    "grants": [g for g in self.grants if user_exists(g["user_id"])],
                    "actions": self.actions,
                    "log_streams": self.log_streams,
                }
            )
