"""Per-user sub-resources, generated lazily and deterministically from (seed, user_id):
directly assigned permissions, authentication methods (MFA enrolments), sessions and refresh
tokens (metadata only, as Auth0 sends them).

Only some users have each kind (a cheap hash decides), so ``truth`` stays fast for thousands of
users. Shapes follow TestUserManager_Permissions, _AuthenticationMethods, _ListUserSessions,
_ListRefreshTokens and TestSessionManager_Read.
"""

from __future__ import annotations

import calendar
import hashlib
import random
import string
import threading
import time
from collections.abc import Callable
from typing import Any

from .data import DAY_MS
from .timeutil import iso_ms, parse_instant

Doc = dict[str, Any]
_ALNUM = string.ascii_letters + string.digits
KINDS = ("permissions", "authentication_methods", "sessions", "refresh_tokens")
# Share of users (in 1/256) that have at least one item of each kind.
_SHARE = {"permissions": 26, "authentication_methods": 64, "sessions": 51, "refresh_tokens": 38}
_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148",
)


def _pick(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_ALNUM) for _ in range(n))


def _mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return (
        local[:4] + "*" * max(len(local) - 4, 0) + "@" + domain[:4] + "*" * max(len(domain) - 4, 0)
    )


def _ip(rng: random.Random) -> str:
    return (
        f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    )


class PerUser:
    """Deterministic per-user data; ``items(kind, user)`` is the full list in API order
    (ascending (created_at, id)), each item paired with its checkpoint stamp."""

    def __init__(
        self,
        seed: int,
        anchor_ms: int,
        permissions: Callable[[], list[Doc]],
        client_ids: Callable[[], list[str]],
        audiences: Callable[[], list[str]],
    ) -> None:
        self.seed = seed
        self.anchor = anchor_ms
        self._pool = permissions
        self._client_ids = client_ids
        self._audiences = audiences
        self._cache: dict[tuple[str, str, str], list[tuple[int, Doc]]] = {}
        # (kind, user_id) -> the list after a change (a delete or an enrolment): it replaces
        # the generated one, so GET after DELETE answers what is left.
        self._overlay: dict[tuple[str, str], list[tuple[int, Doc]]] = {}
        self._lock = threading.Lock()

    def has(self, kind: str, user_id: str) -> bool:
        digest = hashlib.blake2b(f"{self.seed}:{user_id}".encode(), digest_size=4).digest()
        return digest[KINDS.index(kind)] < _SHARE[kind]

    def items(self, kind: str, user: Doc) -> list[tuple[int, Doc]]:
        uid = user["user_id"]
        with self._lock:
            changed = self._overlay.get((kind, uid))
        if changed is not None:
            return changed
        if not self.has(kind, uid):
            return []
        key = (kind, uid, user.get("created_at", ""))
        with self._lock:
            cached = self._cache.get(key)
        if cached is None:
            rng = random.Random(f"{self.seed}:{kind}:{uid}")
            created = _ms(user.get("created_at")) or self.anchor - 365 * DAY_MS
            start = max(created, self.anchor - 30 * DAY_MS)
            cached = getattr(self, f"_gen_{kind}")(user, rng, start)
            cached.sort(key=lambda p: (p[0], p[1].get("id", p[1].get("permission_name", ""))))
            with self._lock:
                self._cache[key] = cached
        return cached

    def docs(self, kind: str, user: Doc) -> list[Doc]:
        return [d for _, d in self.items(kind, user)]

    def replace(self, kind: str, user_id: str, items: list[tuple[int, Doc]]) -> None:
        """Make ``items`` the user's list of ``kind`` from now on (kept in API order)."""
        items = sorted(items, key=lambda p: (p[0], p[1].get("id", p[1].get("permission_name", ""))))
        with self._lock:
            self._overlay[(kind, user_id)] = items

    def forget(self, user_id: str) -> None:
        """Drop a deleted user's changes (a new user with that id starts afresh)."""
        with self._lock:
            for kind in KINDS:
                self._overlay.pop((kind, user_id), None)

    # -- generators -----------------------------------------------------------------------
    def _gen_permissions(self, user: Doc, rng: random.Random, start: int) -> list[tuple[int, Doc]]:
        pool = self._pool()
        picks = rng.sample(pool, min(len(pool), rng.randint(1, 4)))
        return [
            (
                i,
                {
                    **p,
                    "sources": [{"source_id": "", "source_name": "", "source_type": "DIRECT"}],
                },
            )
            for i, p in enumerate(
                sorted(picks, key=lambda p: (p["resource_server_identifier"], p["permission_name"]))
            )
        ]

    def _gen_authentication_methods(
        self, user: Doc, rng: random.Random, start: int
    ) -> list[tuple[int, Doc]]:
        out = []
        kinds = rng.sample(("email", "totp", "phone", "webauthn-roaming"), rng.randint(1, 3))
        for kind in kinds:
            stamp = start + rng.randrange(max(self.anchor - start, 1))
            dev = "dev_" + _pick(rng, 16)
            doc: Doc = {"id": f"{kind}|{dev}", "type": kind, "confirmed": rng.random() < 0.9}
            if kind == "email":
                doc["name"] = "Email"
                doc["email"] = _mask_email(user.get("email") or "user@example.com")
            elif kind == "totp":
                doc["name"] = "Authenticator app"
            elif kind == "phone":
                doc["name"] = "Phone"
                doc["phone_number"] = "XXXXXXXXXXX" + f"{rng.randrange(10000):04d}"
            else:
                doc["name"] = "Security key"
                doc["key_id"] = _pick(rng, 43)
                doc["relying_party_identifier"] = "login.example.com"
            doc["created_at"] = iso_ms(stamp)
            if kind == "phone":
                doc["preferred_authentication_method"] = "sms"
                doc["authentication_methods"] = [{"id": f"sms|{dev}", "type": "sms"}]
            out.append((stamp, doc))
        return out

    def _gen_sessions(self, user: Doc, rng: random.Random, start: int) -> list[tuple[int, Doc]]:
        out = []
        clients = self._client_ids()
        for _ in range(rng.choice((1, 1, 2, 3, 5))):
            stamp = start + rng.randrange(max(self.anchor - start, 1))
            last = stamp + rng.randrange(DAY_MS)
            ip, agent = _ip(rng), rng.choice(_AGENTS)
            doc: Doc = {
                "id": _pick(rng, 32),
                "user_id": user["user_id"],
                "created_at": iso_ms(stamp),
                "updated_at": iso_ms(last),
                "authenticated_at": iso_ms(stamp),
                "idle_expires_at": iso_ms(last + 3 * DAY_MS),
                "expires_at": iso_ms(stamp + 30 * DAY_MS),
                "last_interacted_at": iso_ms(last),
                "device": {
                    "initial_user_agent": agent,
                    "initial_ip": ip,
                    "initial_asn": str(rng.randrange(1000, 65000)),
                    "last_user_agent": agent,
                    "last_ip": ip,
                    "last_asn": str(rng.randrange(1000, 65000)),
                },
                "clients": [{"client_id": c} for c in rng.sample(clients, min(1, len(clients)))],
                "authentication": {
                    "methods": [{"name": "pwd", "timestamp": iso_ms(stamp), "type": "password"}]
                },
            }
            out.append((stamp, doc))
        return out

    def _gen_refresh_tokens(
        self, user: Doc, rng: random.Random, start: int
    ) -> list[tuple[int, Doc]]:
        out = []
        clients = self._client_ids()
        audiences = self._audiences()
        for _ in range(rng.choice((1, 1, 2, 4))):
            stamp = start + rng.randrange(max(self.anchor - start, 1))
            rotating = rng.random() < 0.5
            doc: Doc = {
                "id": _pick(rng, 24),
                "user_id": user["user_id"],
                "created_at": iso_ms(stamp),
                "idle_expires_at": iso_ms(stamp + 15 * DAY_MS) if rotating else None,
                "expires_at": iso_ms(stamp + 30 * DAY_MS) if rotating else None,
                "client_id": rng.choice(clients) if clients else "",
                "session_id": _pick(rng, 32) if rng.random() < 0.5 else None,
                "rotating": rotating,
                "resource_servers": [
                    {"audience": a, "scopes": "openid profile offline_access"}
                    for a in rng.sample(audiences, min(len(audiences), 1))
                ],
            }
            out.append((stamp, doc))
        return out


def enrollment(user: Doc, kind: str, stamp: int) -> Doc:
    """A confirmed authentication method the user just enrolled (``kind`` as the API's
    ``type``: email, totp, phone, webauthn-roaming, ...)."""
    rng = random.Random(f"enroll:{user['user_id']}:{kind}:{stamp}")
    doc: Doc = {"id": f"{kind}|dev_{_pick(rng, 16)}", "type": kind, "confirmed": True}
    if kind == "email":
        doc["email"] = _mask_email(user.get("email") or "user@example.com")
    elif kind == "phone":
        doc["phone_number"] = "XXXXXXXXXXX" + f"{rng.randrange(10000):04d}"
    doc["created_at"] = iso_ms(stamp)
    return doc


def _ms(value: Any) -> int | None:
    """Epoch ms of an ISO timestamp (None when absent or unparseable)."""
    if not isinstance(value, str):
        return None
    try:
        text = parse_instant(value)  # canonical YYYY-MM-DDTHH:MM:SS.mmmZ
    except ValueError:
        return None
    secs = calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))
    return secs * 1000 + int(text[20:23])
