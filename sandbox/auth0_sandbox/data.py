"""Seeded, realistic Auth0 user and connection data.

Shapes follow the recorded payloads (ruby-auth0 / go-auth0 / terraform cassettes): optional keys
are absent rather than null, login fields exist only for users who logged in, linked accounts
carry ``profileData`` on secondary identities, GitHub identity ids are numbers, and timestamps are
ISO-ms UTC. Everything derives from one ``random.Random(seed)`` and a day-aligned anchor, so the
same seed gives the same tenant all day long.
"""

from __future__ import annotations

import base64
import hashlib
import random
import string
import time
from typing import Any

from .timeutil import TIMESTAMP_KEYS, iso_ms

DAY_MS = 86_400_000
SPAN_MS = 3 * 365 * DAY_MS


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


CONNECTIONS: list[tuple[str, str]] = [
    ("Username-Password-Authentication", "auth0"),
    ("google-oauth2", "google-oauth2"),
    ("github", "github"),
    ("sms", "sms"),
    ("acme-saml", "samlp"),
    ("contoso-waad", "waad"),
]

FIRST = _words(
    "james mary robert patricia john jennifer michael linda david elizabeth william barbara "
    "richard susan joseph jessica thomas sarah charles karen christopher lisa daniel nancy "
    "matthew betty anthony sandra mark margaret donald ashley steven kimberly andrew emily "
    "paul donna joshua michelle kenneth carol kevin amanda brian melissa george deborah "
    "timothy stephanie ronald dorothy jason rebecca edward sharon jeffrey laura ryan cynthia "
    "aisha darnell marleen jerold byron herbert archie luther minh gustavo chuck zoe"
)
LAST = _words(
    "smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez "
    "lopez gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson "
    "white harris sanchez clark ramirez lewis robinson walker young allen king wright scott "
    "torres nguyen hill flores green adams nelson baker hall rivera campbell mitchell carter "
    "roberts schaden spencer hagenes bruen reichel bergstrom buckridge kuphal oconnor muller"
)
FREE_DOMAINS = (
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "example.com",
    "example.org",
    "example.net",
    "hotmail.com",
    "proton.me",
)
THEMES = ("light", "dark", "system")
LANGS = ("en", "fr", "de", "es", "pt-BR", "ja", "nl")
ROLES = ("admin", "editor", "viewer", "billing", "support", "super")
PLANS = ("free", "starter", "premium", "enterprise")
REGIONS = ("eu", "us", "au", "jp")
FACTS = ("count_to_infinity_twice", "kill_two_stones_with_one_bird", "can_hear_sign_language")


def make_connections(seed: int) -> list[dict[str, Any]]:
    """The tenant's connections with stable ``con_`` ids (seeded)."""
    rng = random.Random(f"connections:{seed}")
    alphabet = string.ascii_letters + string.digits
    out = []
    for name, strategy in CONNECTIONS:
        cid = "con_" + "".join(rng.choice(alphabet) for _ in range(16))
        out.append(
            {
                "id": cid,
                "options": {},
                "strategy": strategy,
                "name": name,
                "is_domain_connection": False,
                "realms": [name],
                "enabled_clients": [],
            }
        )
    return out


def day_anchor_ms() -> int:
    """Start of the current UTC day: generated history ends before it."""
    now = int(time.time() * 1000)
    return now - now % DAY_MS


def _gravatar(email: str, initials: str) -> str:
    digest = hashlib.md5(email.encode()).hexdigest()  # noqa: S324 - gravatar uses md5
    return (
        f"https://s.gravatar.com/avatar/{digest}?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com"
        f"%2Favatars%2F{initials}.png"
    )


class UserFactory:
    """Builds users one at a time from a single seeded RNG (fast enough for 200k users)."""

    def __init__(self, seed: int, anchor_ms: int | None = None) -> None:
        self.rng = random.Random(seed)
        self.anchor = anchor_ms if anchor_ms is not None else day_anchor_ms()
        self.start = self.anchor - SPAN_MS
        self.counter = 0

    def _hex(self, n: int) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def _object_id(self, created_ms: int) -> str:
        # Mongo-style ids like Auth0's: 4-byte creation time + random bytes.
        return f"{created_ms // 1000:08x}" + self._hex(16)

    def _ip(self) -> str:
        r = self.rng
        if r.random() < 0.2:
            return ":".join(f"{r.getrandbits(16):x}" for _ in range(8))
        return f"{r.randint(11, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"

    def _user_metadata(self) -> dict[str, Any]:
        r = self.rng
        kind = r.randrange(6)
        if kind == 0:
            return {"theme": r.choice(THEMES)}
        if kind == 1:
            return {"addresses": {"home_address": f"{r.randint(1, 999)} Evergreen Terrace"}}
        if kind == 2:
            return {
                "preferences": {"newsletter": r.random() < 0.5, "language": r.choice(LANGS)},
                "theme": r.choice(THEMES),
            }
        if kind == 3:
            return {"favourite_attack": "roundhouse_kick", "shoe_size": r.randint(36, 47)}
        if kind == 4:
            return {
                "signup": {
                    "source": r.choice(("web", "ios", "android")),
                    "campaign": f"c{r.randint(1, 40)}",
                }
            }
        return {}

    def _app_metadata(self) -> dict[str, Any]:
        r = self.rng
        kind = r.randrange(5)
        if kind == 0:
            return {"roles": r.sample(ROLES, r.randint(1, 2))}
        if kind == 1:
            return {"roles": [r.choice(ROLES)], "plan": r.choice(PLANS)}
        if kind == 2:
            return {
                "tenant": {"id": r.randint(1, 5000), "region": r.choice(REGIONS)},
                "plan": r.choice(PLANS),
            }
        if kind == 3:
            return {"facts": list(FACTS)}
        return {"stripe_customer_id": "cus_" + self._hex(14), "loyalty_points": r.randint(0, 9000)}

    def make(self) -> dict[str, Any]:
        """One user object exactly as GET /api/v2/users/{id} would return it."""
        r = self.rng
        self.counter += 1
        n = self.counter
        first, last = FIRST[int(r.random() * len(FIRST))], LAST[int(r.random() * len(LAST))]
        created = self.start + int(r.random() ** 0.8 * (SPAN_MS - DAY_MS))
        roll = r.random()
        u: dict[str, Any]
        if roll < 0.55:
            u = self._database(first, last, n, created)
        elif roll < 0.70:
            u = self._google(first, last, n)
        elif roll < 0.77:
            u = self._github(first, last, n)
        elif roll < 0.84:
            u = self._sms()
        elif roll < 0.92:
            u = self._saml(first, last, n)
        else:
            u = self._waad(first, last, n)
        u["created_at"] = created
        self._activity(u, created)
        if r.random() < 0.4:
            meta = self._user_metadata()
            u["user_metadata"] = meta
        if r.random() < 0.35:
            u["app_metadata"] = self._app_metadata()
        roll = r.random()
        if roll < 0.02:
            u["blocked"] = True
        elif roll < 0.12:
            u["blocked"] = False
        return _finish(u)

    # -- identity kinds -------------------------------------------------------------------
    def _database(self, first: str, last: str, n: int, created: int) -> dict[str, Any]:
        r = self.rng
        local = r.choice(
            (f"{first}.{last}", f"{first}{last}", f"{first}_{last}", f"{first[0]}{last}")
        )
        email = f"{local}{n}@{r.choice(FREE_DOMAINS)}"
        oid = self._object_id(created)
        u: dict[str, Any] = {
            "email": email,
            "email_verified": r.random() < 0.6,
            "identities": [
                {
                    "connection": "Username-Password-Authentication",
                    "user_id": oid,
                    "provider": "auth0",
                    "isSocial": False,
                }
            ],
            "user_id": f"auth0|{oid}",
        }
        if r.random() < 0.5:
            u["name"] = email
        else:
            u["name"] = f"{first.title()} {last.title()}"
            u["given_name"], u["family_name"] = first.title(), last.title()
        u["nickname"] = email.split("@", 1)[0]
        u["picture"] = _gravatar(email, email[:2])
        if r.random() < 0.25:
            u["username"] = f"{first}{last[:3]}{n}"
        if r.random() < 0.06:
            self._link_secondary(u, first, last, n)
        return u

    def _link_secondary(self, u: dict[str, Any], first: str, last: str, n: int) -> None:
        r = self.rng
        if r.random() < 0.5:
            uid = str(r.randrange(10**20, 10**21))
            ident = {
                "profileData": {
                    "email": f"{first}.{last}.{n}@gmail.com",
                    "email_verified": True,
                    "name": f"{first.title()} {last.title()}",
                    "given_name": first.title(),
                    "family_name": last.title(),
                    "picture": f"https://lh3.googleusercontent.com/a/{self._hex(20)}",
                    "locale": "en",
                },
                "provider": "google-oauth2",
                "user_id": uid,
                "connection": "google-oauth2",
                "isSocial": True,
            }
        else:
            gid = r.randrange(10**5, 10**8)
            ident = {
                "profileData": {
                    "name": f"{first.title()} {last.title()}",
                    "nickname": f"{first}{last}{n % 97}",
                    "picture": f"https://avatars.githubusercontent.com/u/{gid}?v=4",
                    "email": f"{first}{n}@users.noreply.github.com",
                    "email_verified": True,
                },
                "provider": "github",
                "user_id": gid,
                "connection": "github",
                "isSocial": True,
            }
        u["identities"].append(ident)

    def _google(self, first: str, last: str, n: int) -> dict[str, Any]:
        r = self.rng
        uid = str(r.randrange(10**20, 10**21))
        email = f"{first}.{last}{n}@gmail.com"
        return {
            "email": email,
            "email_verified": True,
            "family_name": last.title(),
            "given_name": first.title(),
            "identities": [
                {
                    "provider": "google-oauth2",
                    "user_id": uid,
                    "connection": "google-oauth2",
                    "isSocial": True,
                }
            ],
            "locale": r.choice(LANGS),
            "name": f"{first.title()} {last.title()}",
            "nickname": f"{first}.{last}{n}",
            "picture": f"https://lh3.googleusercontent.com/a/{self._hex(24)}=s96-c",
            "user_id": f"google-oauth2|{uid}",
        }

    def _github(self, first: str, last: str, n: int) -> dict[str, Any]:
        r = self.rng
        gid = r.randrange(10**5, 10**8)
        login = f"{first}{last[:4]}{n % 1000}"
        u: dict[str, Any] = {
            "identities": [
                {"provider": "github", "user_id": gid, "connection": "github", "isSocial": True}
            ],
            "name": f"{first.title()} {last.title()}" if r.random() < 0.7 else login,
            "nickname": login,
            "picture": f"https://avatars.githubusercontent.com/u/{gid}?v=4",
            "user_id": f"github|{gid}",
        }
        if r.random() < 0.8:
            u["email"] = f"{login}{n}@users.noreply.github.com"
            u["email_verified"] = True
        return u

    def _sms(self) -> dict[str, Any]:
        r = self.rng
        oid = self._hex(24)
        phone = f"+1{r.randint(201, 989)}555{r.randint(0, 9999):04d}"
        return {
            "identities": [
                {"user_id": oid, "provider": "sms", "connection": "sms", "isSocial": False}
            ],
            "name": phone,
            "nickname": phone,
            "phone_number": phone,
            "phone_verified": True,
            "picture": "https://cdn.auth0.com/avatars/default.png",
            "user_id": f"sms|{oid}",
        }

    def _saml(self, first: str, last: str, n: int) -> dict[str, Any]:
        email = f"{first}.{last}{n}@acme.com"
        return {
            "email": email,
            "email_verified": True,
            "family_name": last.title(),
            "given_name": first.title(),
            "identities": [
                {
                    "user_id": email,
                    "provider": "samlp",
                    "connection": "acme-saml",
                    "isSocial": False,
                }
            ],
            "name": f"{first.title()} {last.title()}",
            "nickname": f"{first}.{last}{n}",
            "picture": _gravatar(email, first[:1] + last[:1]),
            "user_id": f"samlp|acme-saml|{email}",
        }

    def _waad(self, first: str, last: str, n: int) -> dict[str, Any]:
        r = self.rng
        oid = base64.urlsafe_b64encode(r.getrandbits(256).to_bytes(32, "big")).decode()[:43]
        email = f"{first[0]}{last}{n}@contoso.com"
        return {
            "email": email,
            "email_verified": True,
            "family_name": last.title(),
            "given_name": first.title(),
            "identities": [
                {
                    "user_id": oid,
                    "provider": "waad",
                    "connection": "contoso-waad",
                    "isSocial": False,
                }
            ],
            "name": f"{first.title()} {last.title()}",
            "nickname": f"{first[0]}{last}{n}",
            "picture": _gravatar(email, first[:1] + last[:1]),
            "user_id": f"waad|{oid}",
        }

    def _activity(self, u: dict[str, Any], created: int) -> None:
        """Login history and updated_at (ints here; _finish formats them)."""
        r = self.rng
        room = max(self.anchor - DAY_MS // 24 - created, 1)
        updated = created
        if r.random() < 0.7:
            last_login = created + int(r.random() ** 0.5 * room)
            u["last_login"] = last_login
            u["last_ip"] = self._ip()
            u["logins_count"] = max(1, int(r.paretovariate(1.2)))
            updated = last_login
            if u["user_id"].startswith("auth0|") and r.random() < 0.08:
                u["last_password_reset"] = created + (last_login - created) // 2
        if r.random() < 0.3:
            updated = updated + int(r.random() * (created + room - updated))
        if r.random() < 0.05:
            mfa_at = created + (updated - created) // 3
            u["multifactor_last_modified"] = mfa_at
            if r.random() < 0.6:
                u["multifactor"] = ["guardian"]
        u["updated_at"] = updated


def _finish(u: dict[str, Any]) -> dict[str, Any]:
    for key in TIMESTAMP_KEYS:
        if key in u:
            u[key] = iso_ms(u[key])
    return u


def make_import_group(factory: UserFactory, size: int, at_ms: int) -> list[dict[str, Any]]:
    """A bulk-import batch: database users sharing one created_at == updated_at, never logged in."""
    group = []
    for _ in range(size):
        u = factory.make()
        for key in (
            "last_login",
            "last_ip",
            "logins_count",
            "last_password_reset",
            "multifactor",
            "multifactor_last_modified",
        ):
            u.pop(key, None)
        u["created_at"] = u["updated_at"] = iso_ms(at_ms)
        group.append(u)
    return group


def generate_users(
    count: int, seed: int, tie_group_size: int = 0, anchor_ms: int | None = None
) -> list[dict[str, Any]]:
    """``count`` users: mostly independent ones plus a few bulk-import tie groups.

    Three small import groups (3-12 users) always exist; ``tie_group_size`` adds one more
    group of exactly that many users (capped at ``count``). User ids are unique.
    """
    factory = UserFactory(seed, anchor_ms)
    rng = random.Random(f"groups:{seed}")
    groups: list[int] = []
    if tie_group_size > 0:
        groups.append(min(tie_group_size, count))
    budget = count - sum(groups)
    for _ in range(3):
        size = rng.randint(3, 12)
        if budget >= size * 4:
            groups.append(size)
            budget -= size
    plain = [factory.make() for _ in range(count - sum(groups))]
    imported: list[dict[str, Any]] = []
    for size in groups:
        at = factory.start + rng.randrange(SPAN_MS // 4, SPAN_MS - 30 * DAY_MS)
        at -= at % 1000 - rng.randrange(1000)  # keep a realistic ms part
        imported.extend(make_import_group(factory, size, at))
    # Spread the groups through the list so insertion order does not reveal them.
    rng.shuffle(imported)
    slots = set(rng.sample(range(count), len(imported)))
    plain_it, imp_it = iter(plain), iter(imported)
    users = [next(imp_it) if i in slots else next(plain_it) for i in range(count)]
    seen: set[str] = set()
    for u in users:
        while u["user_id"] in seen:  # vanishingly rare (random id collision)
            u["user_id"] += "x"
        seen.add(u["user_id"])
    return users
