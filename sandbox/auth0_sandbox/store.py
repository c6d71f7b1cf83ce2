"""The tenant's users: an immediately consistent primary store plus a lagging search index.

Auth0 search is eventually consistent while ``GET /users/{id}`` is not. We model that the way
Elasticsearch behaves: every change is queued with ``visible_at = now + index_lag_seconds`` and
applied to the search index's own snapshot just before a search runs. Docs are never mutated in
place (changes build new dicts), so the index can keep serving the older version meanwhile.
"""

from __future__ import annotations

import copy
import hashlib
import heapq
import itertools
import json
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from .lucene import Node
from .search import SearchIndex, SearchResult
from .timeutil import TIMESTAMP_KEYS, iso_ms, normalize_timestamp, now_ms

Doc = dict[str, Any]
_CREATE_ONLY = ("connection", "password", "verify_email", "verify_phone_number", "verify_password")
_SOCIAL = ("google-oauth2", "github")


class UserExists(ValueError):
    """create_user with a user_id that is already taken."""


class UserStore:
    """Thread-safe users with per-user versions and a lagging search view."""

    def __init__(
        self, users: list[Doc], seed: int, connections: list[Doc], lag_seconds: Callable[[], float]
    ) -> None:
        self.lock = threading.RLock()
        self.primary: dict[str, Doc] = {u["user_id"]: u for u in users}
        self.versions: dict[str, int] = dict.fromkeys(self.primary, 1)
        self.index = SearchIndex(seed, users)
        self.connections = connections
        self._lag = lag_seconds
        self._pending: list[tuple[float, int, str, Doc | None]] = []
        self._seq = itertools.count()
        self._applied: dict[str, int] = {}
        self._rng = random.Random(f"ids:{seed}")
        with self.lock:  # warm the indexes incremental clients use; others build on demand
            for name in ("_order", "updated_at"):
                self.index.field(name)

    # -- reads ----------------------------------------------------------------------------
    def get(self, user_id: str) -> Doc | None:
        with self.lock:
            return self.primary.get(user_id)

    def snapshot(self) -> list[Doc]:
        """Current docs (shared, treat as read-only) in insertion order."""
        with self.lock:
            return list(self.primary.values())

    def search(
        self,
        node: Node | None,
        sort_field: str,
        descending: bool,
        offset: int,
        limit: int,
        want_total: bool,
    ) -> SearchResult:
        with self.lock:
            self._drain()
            return self.index.search(node, sort_field, descending, offset, limit, want_total)

    # -- writes ---------------------------------------------------------------------------
    def create(self, fields: dict[str, Any]) -> Doc:
        """Create like POST /api/v2/users: identities, name/nickname/picture defaults."""
        fields = copy.deepcopy(fields)
        conn_name = fields.get("connection", "Username-Password-Authentication")
        strategy = next(
            (c["strategy"] for c in self.connections if c["name"] == conn_name), "auth0"
        )
        provider = strategy
        now = now_ms()
        uid = fields.pop("user_id", None)
        if uid is None:
            local = f"{now // 1000:08x}{self._rng.getrandbits(64):016x}"
            uid = f"{provider}|{local}"
        elif "|" not in str(uid):
            local, uid = str(uid), f"{provider}|{uid}"
        else:
            local = str(uid).split("|", 1)[1]
        doc: Doc = {"created_at": iso_ms(now)}
        email = fields.get("email")
        if isinstance(email, str):
            doc["email"] = email
            doc["email_verified"] = False
            doc["name"] = email
            doc["nickname"] = email.split("@", 1)[0]
            digest = hashlib.md5(email.lower().encode()).hexdigest()  # noqa: S324
            doc["picture"] = (
                f"https://s.gravatar.com/avatar/{digest}?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2F{email[:2].lower()}.png"
            )
        doc["identities"] = [
            {
                "connection": conn_name,
                "user_id": local,
                "provider": provider,
                "isSocial": provider in _SOCIAL,
            }
        ]
        for key, value in fields.items():
            if key not in _CREATE_ONLY and value is not None:
                doc[key] = normalize_timestamp(value) if key in TIMESTAMP_KEYS else value
        doc.setdefault("updated_at", doc["created_at"])
        doc["user_id"] = uid
        with self.lock:
            if uid in self.primary:
                raise UserExists("The user already exists.")
            self._commit(uid, doc)
        return copy.deepcopy(doc)

    def update(self, user_id: str, changes: dict[str, Any]) -> Doc:
        """PATCH semantics: metadata merges one level deep, None removes a key; updated_at
        becomes now (ms) unless the caller passes one. KeyError if the user is unknown."""
        with self.lock:
            old = self.primary[user_id]
            doc = copy.deepcopy(old)
            for key, value in changes.items():
                if key == "user_id":
                    continue
                if key in ("user_metadata", "app_metadata") and isinstance(value, dict):
                    merged = dict(doc.get(key) or {})
                    for mk, mv in value.items():
                        if mv is None:
                            merged.pop(mk, None)
                        else:
                            merged[mk] = mv
                    doc[key] = merged
                elif value is None:
                    doc.pop(key, None)
                else:
                    doc[key] = normalize_timestamp(value) if key in TIMESTAMP_KEYS else value
            if "updated_at" not in changes:
                doc["updated_at"] = iso_ms(now_ms())
            self._commit(user_id, doc)
            return copy.deepcopy(doc)

    def delete(self, user_id: str) -> bool:
        with self.lock:
            if user_id not in self.primary:
                return False
            self._commit(user_id, None)
            return True

    def touch(self, count: int, seed: int) -> list[str]:
        """Update ``count`` pseudo-random users' user_metadata; returns their ids."""
        rng = random.Random(seed)
        with self.lock:
            ids = rng.sample(sorted(self.primary), min(count, len(self.primary)))
            for uid in ids:
                self.update(uid, {"user_metadata": {"touch": rng.randrange(1 << 30)}})
        return ids

    def truth(self) -> list[Doc]:
        """Deep copies of current users in user_id order."""
        with self.lock:
            docs = [self.primary[k] for k in sorted(self.primary)]
        return json.loads(json.dumps(docs))

    # -- internals ------------------------------------------------------------------------
    def _commit(self, uid: str, doc: Doc | None) -> None:
        if doc is None:
            self.primary.pop(uid, None)
        else:
            self.primary[uid] = doc
        self.versions[uid] = self.versions.get(uid, 0) + 1
        visible_at = time.monotonic() + max(0.0, self._lag())
        heapq.heappush(self._pending, (visible_at, next(self._seq), uid, doc))
        if self._lag() <= 0:
            self._drain()

    def _drain(self) -> None:
        now = time.monotonic()
        pending = self._pending
        applied = self._applied
        while pending and pending[0][0] <= now:
            _, seq, uid, doc = heapq.heappop(pending)
            if seq > applied.get(uid, -1):  # lag may shrink at runtime: never go backwards
                applied[uid] = seq
                self.index.put(uid, doc)
