"""Seeded tenant log events (``GET /api/v2/logs``) and the daily stats derived from them.

Events are shaped like the recorded ones (go-auth0 2023 cassettes: every key present, ``null``
when it does not apply; ``_id`` == ``log_id``). ``log_id`` is Auth0's 56-digit string:
``"900"`` + ingestion time ``YYYYMMDDhhmmss`` + 6 digits of microseconds + 12 zeros + a
21-digit sequence, so string order == numeric order == ingestion order. Ingestion happens a
little after ``date`` (ms to seconds) and, for *late arrivals*, minutes to hours after it: id
order is therefore not date order.

The generated history spans ``log_days`` whole UTC days ending at the start of today (like the
users, it is stable for a day); a few days are quiet (no events at all, so ``/stats/daily`` is
sparse). ``append`` adds events ingested "now". Retention (``log_retention_days``) and
``expire_before`` drop held events; the stats history (``/stats/daily``, active users) keeps
counting them.
"""

from __future__ import annotations

import bisect
import json
import random
import string
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from .timeutil import iso_ms

Doc = dict[str, Any]
DAY_MS = 86_400_000
_ALNUM = string.ascii_letters + string.digits

# (type, weight). Counted by /stats/daily: s (logins), ss (signups), pwd_leak and
# signup_pwd_leak (leaked_passwords / leaked_passwords_signup). zz_* are codes no table knows.
TYPE_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("s", 30),
    ("seacft", 10),
    ("sertft", 7),
    ("ssa", 7),
    ("seccft", 6),
    ("sapi", 7),
    ("ss", 6),
    ("slo", 5),
    ("fp", 3),
    ("fsa", 3),
    ("gd_auth_succeed", 3),
    ("f", 2),
    ("fu", 2),
    ("mgmt_api_read", 2),
    ("fapi", 1),
    ("w", 1),
    ("gd_enrollment_complete", 0.5),
    ("limit_wc", 0.3),
    ("pwd_leak", 0.3),
    ("signup_pwd_leak", 0.1),
    ("zz_new_code", 0.1),
    ("zz_passkey_future", 0.05),
)
_TYPES = [t for t, _ in TYPE_WEIGHTS]
_CUM: list[float] = []
_acc = 0.0
for _t, _w in TYPE_WEIGHTS:
    _acc += _w
    _CUM.append(_acc)
_TOTAL_WEIGHT = _acc

LOGIN_TYPES = frozenset({"s"})
SIGNUP_TYPES = frozenset({"ss"})
LEAK_TYPES = frozenset({"pwd_leak"})
LEAK_SIGNUP_TYPES = frozenset({"signup_pwd_leak"})
_COUNTED = LOGIN_TYPES | SIGNUP_TYPES | LEAK_TYPES | LEAK_SIGNUP_TYPES

STRATEGY_TYPE = {
    "auth0": "database",
    "google-oauth2": "social",
    "github": "social",
    "sms": "passwordless",
    "email": "passwordless",
    "samlp": "enterprise",
    "waad": "enterprise",
}
# (country_code, code3, country, city, lat, lon, time_zone, continent)
_PLACES = (
    ("US", "USA", "United States", "Bakersfield", 35.3407, -119.0596, "America/Los_Angeles", "NA"),
    ("US", "USA", "United States", "New York", 40.7128, -74.006, "America/New_York", "NA"),
    ("GB", "GBR", "United Kingdom", "London", 51.5072, -0.1276, "Europe/London", "EU"),
    ("IE", "IRL", "Ireland", "Dublin", 53.3498, -6.2603, "Europe/Dublin", "EU"),
    ("DE", "DEU", "Germany", "Berlin", 52.52, 13.405, "Europe/Berlin", "EU"),
    ("FR", "FRA", "France", "Lyon", 45.764, 4.8357, "Europe/Paris", "EU"),
    ("BR", "BRA", "Brazil", "São Paulo", -23.5558, -46.6396, "America/Sao_Paulo", "SA"),
    ("JP", "JPN", "Japan", "Tokyo", 35.6762, 139.6503, "Asia/Tokyo", "AS"),
    ("IN", "IND", "India", "Bengaluru", 12.9716, 77.5946, "Asia/Kolkata", "AS"),
    ("AU", "AUS", "Australia", "Sydney", -33.8688, 151.2093, "Australia/Sydney", "OC"),
    ("ZA", "ZAF", "South Africa", "Cape Town", -33.9249, 18.4241, "Africa/Johannesburg", "AF"),
)
_BROWSERS = (
    ("Chrome 120.0.0 / Mac OS X 10.15.7", False),
    ("Chrome 121.0.0 / Windows 10.0.0", False),
    ("Firefox 122.0.0 / Ubuntu 0.0.0", False),
    ("Safari 17.2.1 / Mac OS X 10.15.7", False),
    ("Edge 120.0.0 / Windows 10.0.0", False),
    ("Mobile Safari 17.1.0 / iOS 17.1.1", True),
    ("Chrome Mobile 120.0.0 / Android 14.0.0", True),
)
_API_UA = "Other 0.0.0 / Other 0.0.0"
_SAPI = (
    ("Create a User", "post", "/api/v2/users", 201),
    ("Update a User", "patch", "/api/v2/users/{uid}", 200),
    ("Delete a User", "delete", "/api/v2/users/{uid}", 204),
    ("Create export users job", "post", "/api/v2/jobs/users-exports", 201),
    ("Update a client", "patch", "/api/v2/clients/{cid}", 200),
    ("Add members to an organization", "post", "/api/v2/organizations/{oid}/members", 204),
    ("Assign roles to a user", "post", "/api/v2/users/{uid}/roles", 204),
)
_WARNINGS = (
    "Unable to compute login confidence score",
    "Multifactor authentication was skipped: the user is not enrolled",
    "Passwordless connection is disabled for this application",
)


def _pick_type(r: float) -> str:
    return _TYPES[bisect.bisect_right(_CUM, r * _TOTAL_WEIGHT)]


def make_log_id(ingest_us: int, seq: int) -> str:
    """Auth0-shaped 56-digit id for an ingestion instant (epoch µs) and a sequence number."""
    secs, micros = divmod(ingest_us, 1_000_000)
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(secs))
    return f"900{stamp}{micros:06d}{'0' * 12}{seq:021d}"


def day_of(ms: int) -> int:
    """Start of the UTC day (epoch ms)."""
    return ms - ms % DAY_MS


def _arrival(log_id: str) -> str | None:
    """The arrival time a log id carries ("900" + yyyymmddhhmmss + microseconds), ISO-ms."""
    if len(log_id) < 23 or not log_id.isdigit() or not log_id.startswith("900"):
        return None
    t = log_id[3:23]
    return f"{t[0:4]}-{t[4:6]}-{t[6:8]}T{t[8:10]}:{t[10:12]}:{t[12:14]}.{t[14:17]}Z"


class _Actors:
    """The tenant's real users, clients, connections, organizations and APIs to reference."""

    def __init__(
        self,
        tenant: str,
        users: list[Doc],
        clients: list[Doc],
        connections: list[Doc],
        organizations: list[Doc],
        audiences: list[str],
    ) -> None:
        self.domain = f"{tenant}.us.auth0.com"
        self.users = [
            (
                u["user_id"],
                u.get("email") or u.get("username") or u.get("phone_number") or u["user_id"],
                (u.get("identities") or [{}])[0].get("connection"),
            )
            for u in users
        ] or [("auth0|000000000000000000000000", "nobody@example.com", None)]
        self.connections = {c["name"]: c for c in connections}
        self.default_connection = connections[0] if connections else None
        interactive = [c for c in clients if c.get("app_type") != "non_interactive"]
        m2m = [c for c in clients if c.get("app_type") == "non_interactive"]
        fallback = [{"client_id": "WrzucugfsIb3oXl0Hnc8kq3BXkPFp7Hd", "name": "All Applications"}]
        self.apps = [(c["client_id"], c["name"]) for c in interactive or fallback]
        self.m2m = [(c["client_id"], c["name"]) for c in m2m or interactive or fallback]
        self.orgs = [(o["id"], o["name"]) for o in organizations]
        self.mgmt_audience = f"https://{self.domain}/api/v2/"
        self.audiences = audiences or [self.mgmt_audience]


def make_actors(
    tenant: str,
    users: list[Doc],
    clients: list[Doc],
    connections: list[Doc],
    organizations: list[Doc],
    audiences: list[str],
) -> _Actors:
    """Who events reference (users sorted by user_id so generation is deterministic)."""
    users = sorted(users, key=lambda u: u["user_id"])
    return _Actors(tenant, users, clients, connections, organizations, audiences)


class _Factory:
    """Builds one event from a seeded RNG (fast: ~25k events per few hundred ms)."""

    def __init__(self, actors: _Actors, rng: random.Random) -> None:
        self.a = actors
        self.r = rng

    def _ip(self) -> str:
        r = self.r
        if r.random() < 0.15:
            return ":".join(f"{r.getrandbits(16):x}" for _ in range(8))
        return f"{r.randint(11, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"

    def _token(self, n: int) -> str:
        return "".join(self.r.choices(_ALNUM, k=n))

    def _location(self) -> Doc:
        p = self.r.choice(_PLACES)
        return {
            "country_code": p[0],
            "country_code3": p[1],
            "country_name": p[2],
            "city_name": p[3],
            "latitude": p[4],
            "longitude": p[5],
            "time_zone": p[6],
            "continent_code": p[7],
        }

    def make(self, etype: str, date_ms: int) -> Doc:
        r, a = self.r, self.a
        uid, uname, conn_name = r.choice(a.users)
        conn = a.connections.get(conn_name or "") or a.default_connection
        client_id, client_name = r.choice(a.apps)
        ua, mobile = r.choice(_BROWSERS)
        ip = self._ip()
        e: Doc = {
            "_id": "",
            "log_id": "",
            "date": iso_ms(date_ms),
            "type": etype,
            "description": "",
            "connection": conn["name"] if conn else None,
            "connection_id": conn["id"] if conn else None,
            "organization_id": None,
            "organization_name": None,
            "client_id": client_id,
            "client_name": client_name,
            "ip": ip,
            "hostname": a.domain,
            "details": {},
            "user_id": uid,
            "user_name": uname,
            "user_agent": ua,
            "audience": None,
            "strategy": conn["strategy"] if conn else None,
            "strategy_type": STRATEGY_TYPE.get(conn["strategy"]) if conn else None,
            "isMobile": mobile,
            "location_info": self._location(),
        }
        if a.orgs and etype in ("s", "seacft", "ssa", "sertft") and r.random() < 0.15:
            e["organization_id"], e["organization_name"] = r.choice(a.orgs)
        getattr(self, f"_t_{etype}", self._t_other)(e, date_ms)
        return e

    # -- per type ---------------------------------------------------------------------------
    def _api_event(self, e: Doc) -> None:
        client_id, _ = self.r.choice(self.a.m2m)
        e.update(
            client_id=client_id,
            client_name="",
            connection=None,
            connection_id=None,
            hostname=None,
            user_agent=_API_UA,
            isMobile=False,
            location_info=None,
            strategy=None,
            strategy_type=None,
        )

    def _t_s(self, e: Doc, date_ms: int) -> None:
        r = self.r
        elapsed = r.randint(400, 90_000)
        count = r.randint(1, 400)
        e["details"] = {
            "prompts": [
                {
                    "name": "prompt-authenticate",
                    "completedAt": date_ms - r.randint(5, 200),
                    "connection": e["connection"],
                    "connection_id": e["connection_id"],
                    "strategy": e["strategy"],
                    "identity": e["user_id"].split("|")[-1],
                    "stats": {"loginsCount": count},
                    "elapsedTime": elapsed - 50,
                },
                {
                    "name": "login",
                    "flow": "universal-login",
                    "initiatedAt": date_ms - elapsed,
                    "completedAt": date_ms,
                    "user_id": e["user_id"],
                    "user_name": e["user_name"],
                    "timers": {"rules": r.randint(0, 40)},
                    "elapsedTime": elapsed,
                },
            ],
            "initiatedAt": date_ms - elapsed,
            "completedAt": date_ms,
            "elapsedTime": elapsed,
            "session_id": self._token(32),
            "stats": {"loginsCount": count},
        }

    def _t_ss(self, e: Doc, date_ms: int) -> None:
        e["details"] = {
            "body": {
                "tenant": self.a.domain.split(".")[0],
                "client_id": e["client_id"],
                "connection": e["connection"],
                "email": e["user_name"],
                "password": "*****",
            }
        }
        e["location_info"] = None if self.r.random() < 0.3 else e["location_info"]

    def _t_f(self, e: Doc, date_ms: int) -> None:
        e["description"] = "Wrong email or password."
        e["details"] = {"error": {"message": "Wrong email or password."}}

    _t_fp = _t_f

    def _t_fu(self, e: Doc, date_ms: int) -> None:
        self._t_f(e, date_ms)
        e["user_id"] = ""
        e["user_name"] = f"{self._token(6).lower()}@example.org"

    def _t_slo(self, e: Doc, date_ms: int) -> None:
        e["details"] = {
            "return_to": "https://app.example.com/",
            "allowed_logout_url": ["https://app.example.com/"],
            "session_id": self._token(32),
        }

    def _t_seacft(self, e: Doc, date_ms: int) -> None:
        e["description"] = "Authorization Code for Access Token"
        e["audience"] = self.r.choice(self.a.audiences)
        e["scope"] = "openid profile email offline_access"
        e["details"] = {"code": "*" * 30 + self._token(5)}

    def _t_sertft(self, e: Doc, date_ms: int) -> None:
        e["description"] = "Refresh Token for Access Token"
        e["audience"] = self.r.choice(self.a.audiences)
        e["scope"] = "openid profile offline_access"
        e["details"] = {"refresh_token": "*" * 40 + self._token(5)}

    def _t_seccft(self, e: Doc, date_ms: int) -> None:
        self._api_event(e)
        e["description"] = "Client Credentials for Access Token"
        e["user_id"] = ""
        e["user_name"] = ""
        e["hostname"] = self.a.domain
        if self.r.random() < 0.5:
            e["audience"] = self.a.mgmt_audience
            e["scope"] = ["read:users", "read:logs", "read:stats"]
        else:
            e["audience"] = self.r.choice(self.a.audiences)
            e["scope"] = ["read:orders", "create:orders"]
        e["details"] = {"actions": {"executions": [self._token(40)]}}

    def _request(self, e: Doc, method: str, path: str, body: Any, status: int) -> Doc:
        return {
            "request": {
                "method": method,
                "path": path,
                "query": {},
                "userAgent": "Go-Auth0-SDK/latest",
                "body": body,
                "channel": "api",
                "ip": e["ip"],
                "auth": {"user": {}, "strategy": "jwt", "credentials": {"jti": self._token(32)}},
            },
            "response": {"statusCode": status, "body": {}},
        }

    def _t_sapi(self, e: Doc, date_ms: int) -> None:
        r = self.r
        uid = e["user_id"]
        self._api_event(e)
        desc, method, path, status = r.choice(_SAPI)
        path = path.format(
            uid=uid.replace("|", "%7C"),
            cid=r.choice(self.a.apps)[0],
            oid=r.choice(self.a.orgs)[0] if self.a.orgs else "org_0000000000000000",
        )
        body: Any = {}
        if desc == "Create a User":
            body = {"email": e["user_name"], "password": "*****", "connection": e["connection"]}
        elif method == "patch":
            body = {"user_metadata": {"plan": r.choice(("free", "pro"))}}
        e["description"] = desc
        e["details"] = self._request(e, method, path, body, status)
        e["user_id"] = None
        e["user_name"] = None

    def _t_fapi(self, e: Doc, date_ms: int) -> None:
        self._t_sapi(e, date_ms)
        e["description"] = "Create a User"
        e["details"] = self._request(
            e,
            "post",
            "/api/v2/users",
            {"email": f"dup{self._token(4)}@example.com", "password": "*****"},
            409,
        )
        e["details"]["response"]["body"] = {
            "statusCode": 409,
            "error": "Conflict",
            "message": "The user already exists.",
            "errorCode": "auth0_idp_error",
        }

    def _t_mgmt_api_read(self, e: Doc, date_ms: int) -> None:
        self._t_sapi(e, date_ms)
        cid = self.r.choice(self.a.apps)[0]
        e["description"] = "Get client by ID"
        e["details"] = self._request(e, "get", f"/api/v2/clients/{cid}", None, 200)
        e["details"]["accessedSecrets"] = ["client_secret"]

    def _t_ssa(self, e: Doc, date_ms: int) -> None:
        e["description"] = "Successful silent authentication"
        e["details"] = {"prompts": [], "session_id": self._token(32)}

    def _t_fsa(self, e: Doc, date_ms: int) -> None:
        e["description"] = "Login required"
        e["details"] = {
            "qs": {"prompt": "none", "response_mode": "web_message", "client_id": e["client_id"]},
            "error": {"message": "Login required", "oauthError": "login_required"},
        }

    def _t_gd_auth_succeed(self, e: Doc, date_ms: int) -> None:
        e["description"] = "Second factor authentication succeeded"
        e["details"] = {"authenticator": {"type": self.r.choice(("otp", "push", "sms"))}}

    def _t_gd_enrollment_complete(self, e: Doc, date_ms: int) -> None:
        e["description"] = "Guardian - Enrollment complete"
        e["details"] = {"authenticator": {"type": "otp"}, "enrollment_id": self._token(24)}

    def _t_limit_wc(self, e: Doc, date_ms: int) -> None:
        e["description"] = "Too many failed login attempts from this IP"
        e["user_id"] = ""
        e["details"] = {"ip": e["ip"], "attempts": self.r.randint(10, 60)}

    def _t_w(self, e: Doc, date_ms: int) -> None:
        e["description"] = self.r.choice(_WARNINGS)

    def _t_pwd_leak(self, e: Doc, date_ms: int) -> None:
        e["description"] = "Breached password"
        e["details"] = {"password": "*****", "breached_at": iso_ms(date_ms - 90 * DAY_MS)}

    _t_signup_pwd_leak = _t_pwd_leak

    def _t_other(self, e: Doc, date_ms: int) -> None:
        e["description"] = "An event type added after this imitation was written"
        e["details"] = {"new_field": {"nested": [1, "two", None]}, "flag": True}


class LogStore:
    """Held events in log_id order, plus the stats history (never reduced by expiry)."""

    def __init__(
        self,
        seed: int,
        count: int,
        days: int,
        late_fraction: float,
        anchor_ms: int,
        actors: Callable[[], _Actors],
        retention_days: Callable[[], float],
    ) -> None:
        self.seed = seed
        self._actors = actors
        self._retention = retention_days
        self.lock = threading.RLock()
        self.ids: list[str] = []
        self.events: list[Doc] = []
        self.by_id: dict[str, Doc] = {}
        self.version = 0  # bumped on every change (search caches key on it)
        self.max_dropped: str | None = None  # highest log_id ever dropped
        self.expired_before: str | None = None  # latest retention cutoff applied (ISO-ms)
        self._min_date: str | None = None
        self._last_ingest_us = 0
        rng = random.Random(f"logs:{seed}")
        self._seq = 10**18 + rng.randrange(10**18)
        self._appends = 0
        # stats history
        self.daily: dict[int, list[int]] = {}  # day ms -> [logins, signups, leaks, leaks_signup,
        #                                        first event ms, last ingestion ms]
        self.last_login: dict[str, int] = {}
        if count > 0:
            self._generate(rng, count, max(1, days), late_fraction, anchor_ms)

    # -- generation -------------------------------------------------------------------------
    def _generate(
        self, rng: random.Random, count: int, days: int, late: float, anchor_ms: int
    ) -> None:
        start = anchor_ms - days * DAY_MS
        # Quiet days (no events at all): never the first or last, at least one when possible.
        quiet = {d for d in range(1, days - 1) if rng.random() < 0.2}
        if days >= 3 and not quiet:
            quiet.add(rng.randrange(1, days - 1))
        active = [d for d in range(days) if d not in quiet]
        factory = _Factory(self._actors(), rng)
        planned: list[tuple[int, int, int, str]] = []  # (ingest_us, i, date_ms, type)
        end_us = anchor_ms * 1000 - 1
        for i in range(count):
            day = active[rng.randrange(len(active))]
            date_ms = start + day * DAY_MS + rng.randrange(DAY_MS)
            if rng.random() < late:
                delay_us = rng.randrange(120_000_000, 6 * 3_600_000_000)
            else:
                delay_us = rng.randrange(5_000, 4_000_000)
            ingest = min(date_ms * 1000 + delay_us, end_us)
            planned.append((max(ingest, date_ms * 1000), i, date_ms, _pick_type(rng.random())))
        planned.sort()
        self._add((ingest, d, factory.make(t, d)) for ingest, _, d, t in planned)

    def _add(self, items: Iterable[tuple[int, int, Doc]]) -> list[str]:
        """Assign ids in order (ingestion times made non-decreasing) and hold the events."""
        out = []
        step = random.Random(f"logs-seq:{self.seed}:{self._seq}")
        with self.lock:
            for ingest_us, date_ms, e in items:
                ingest_us = max(ingest_us, self._last_ingest_us)
                self._last_ingest_us = ingest_us
                self._seq += step.randint(1, 300)
                lid = make_log_id(ingest_us, self._seq)
                e["_id"] = e["log_id"] = lid
                self.ids.append(lid)
                self.events.append(e)
                self.by_id[lid] = e
                if self._min_date is None or e["date"] < self._min_date:
                    self._min_date = e["date"]
                self._count(e, date_ms, ingest_us // 1000)
                out.append(lid)
            self.version += 1
        return out

    def _count(self, e: Doc, date_ms: int, ingest_ms: int) -> None:
        t = e["type"]
        if t not in _COUNTED:
            return
        row = self.daily.get(day_of(date_ms))
        if row is None:
            row = self.daily[day_of(date_ms)] = [0, 0, 0, 0, date_ms, ingest_ms]
        if t in LOGIN_TYPES:
            row[0] += 1
            uid = e.get("user_id")
            if uid and self.last_login.get(uid, 0) < date_ms:
                self.last_login[uid] = date_ms
        elif t in SIGNUP_TYPES:
            row[1] += 1
        elif t in LEAK_TYPES:
            row[2] += 1
        else:
            row[3] += 1
        row[4] = min(row[4], date_ms)
        row[5] = max(row[5], ingest_ms)

    def append(self, n: int, late_fraction: float = 0.03, seed: int | None = None) -> list[str]:
        """``n`` events ingested now; late ones carry dates minutes to hours old."""
        with self.lock:
            self._appends += 1
            rng = random.Random(
                f"logs-append:{self.seed}:{self._appends}" if seed is None else seed
            )
            factory = _Factory(self._actors(), rng)
            now_us = max(time.time_ns() // 1000, self._last_ingest_us + 1)
            items = []
            for i in range(n):
                if rng.random() < late_fraction:
                    date_ms = now_us // 1000 - rng.randrange(120_000, 6 * 3_600_000)
                else:
                    date_ms = now_us // 1000 - rng.randrange(0, 3_000)
                etype = _pick_type(rng.random())
                items.append((now_us + i, date_ms, factory.make(etype, date_ms)))
            return self._add(items)

    def record(self, events: list[Doc]) -> list[str]:
        """Hold events that happen now (a change to the tenant), in the given order."""
        with self.lock:
            now_us = max(time.time_ns() // 1000, self._last_ingest_us + 1)
            items = []
            for i, e in enumerate(events):
                ms = (now_us + i) // 1000
                e["date"] = iso_ms(ms)
                items.append((now_us + i, ms, e))
            return self._add(items)

    # -- retention --------------------------------------------------------------------------
    def expire_before(self, cutoff: str) -> int:
        """Drop held events dated before ``cutoff`` (canonical ISO-ms); returns how many."""
        with self.lock:
            if self.expired_before is None or cutoff > self.expired_before:
                self.expired_before = cutoff
            if self._min_date is None or self._min_date >= cutoff:
                return 0
            keep_ids, keep = [], []
            dropped = 0
            for lid, e in zip(self.ids, self.events, strict=True):
                if e["date"] < cutoff:
                    dropped += 1
                    del self.by_id[lid]
                    if self.max_dropped is None or lid > self.max_dropped:
                        self.max_dropped = lid
                else:
                    keep_ids.append(lid)
                    keep.append(e)
            self.ids, self.events = keep_ids, keep
            self._min_date = min((e["date"] for e in keep), default=None)
            self.version += 1
            return dropped

    def apply_retention(self) -> None:
        days = self._retention()
        if days > 0:
            self.expire_before(iso_ms(int(time.time() * 1000 - days * DAY_MS)))

    # -- views ------------------------------------------------------------------------------
    def after(self, from_id: str, take: int) -> list[Doc]:
        """Up to ``take`` held events with log_id > from_id, ascending."""
        with self.lock:
            i = bisect.bisect_right(self.ids, from_id)
            return self.events[i : i + take]

    def newest(self, take: int) -> list[Doc]:
        with self.lock:
            return self.events[max(0, len(self.events) - take) :]

    def is_expired_checkpoint(self, from_id: str) -> bool:
        """``from`` points before the retention cutoff: events after it were dropped and the
        time it carries (a log id holds its arrival time) is older than the cutoff."""
        with self.lock:
            if self.max_dropped is None or from_id >= self.max_dropped:
                return False
            if self.ids and from_id >= self.ids[0]:
                return False
            arrived = _arrival(from_id)
            return arrived is None or self.expired_before is None or arrived < self.expired_before

    def truth(self) -> list[Doc]:
        with self.lock:
            return json.loads(json.dumps(self.events))

    def daily_rows(self, first_day: int | None = None, last_day: int | None = None) -> list[Doc]:
        with self.lock:
            rows = []
            for day in sorted(self.daily):
                if (first_day is not None and day < first_day) or (
                    last_day is not None and day > last_day
                ):
                    continue
                logins, signups, leaks, leaks_signup, first, updated = self.daily[day]
                rows.append(
                    {
                        "date": iso_ms(day),
                        "created_at": iso_ms(first),
                        "leaked_passwords": leaks,
                        "leaked_passwords_signup": leaks_signup,
                        "logins": logins,
                        "signups": signups,
                        "updated_at": iso_ms(updated),
                    }
                )
            return rows

    def active_users(self, now_ms: int | None = None) -> int:
        now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
        since = now_ms - 30 * DAY_MS
        with self.lock:
            return sum(1 for ms in self.last_login.values() if ms >= since)
