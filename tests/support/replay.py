"""A loader in a few lines, for tests that check tables over several runs: Singer messages
replayed into {table: {key: record}} as a loader with `hard_delete` keeps them, and the
sandbox's truth as the same keys.

- RECORD upserts by the stream's key; a tombstone (`_sdc_deleted_at` set) deletes the key.
- ACTIVATE_VERSION drops every row written with an older table version.
"""

from __future__ import annotations

import typing as t

from tap_auth0.streams.registry import STREAMS

Key = tuple[str, ...]
Tables = dict[str, dict[Key, dict[str, t.Any]]]
KEYS: dict[str, tuple[str, ...]] = {cls.name: tuple(cls.primary_keys or ()) for cls in STREAMS}


def key_of(stream: str, record: t.Mapping[str, t.Any]) -> Key:
    return tuple(str(record.get(k)) for k in KEYS[stream])


class Replay:
    """Tables as a hard-deleting loader would hold them after the messages given."""

    def __init__(self) -> None:
        self.tables: Tables = {}
        self._versions: dict[str, dict[Key, int | None]] = {}
        self.tombstones: dict[str, set[Key]] = {}

    def apply(self, messages: t.Iterable[dict[str, t.Any]]) -> Replay:
        for m in messages:
            kind, stream = m.get("type"), m.get("stream")
            if stream not in KEYS:
                continue
            table = self.tables.setdefault(stream, {})
            versions = self._versions.setdefault(stream, {})
            if kind == "RECORD":
                record = m["record"]
                key = key_of(stream, record)
                if record.get("_sdc_deleted_at"):
                    table.pop(key, None)
                    versions.pop(key, None)
                    self.tombstones.setdefault(stream, set()).add(key)
                else:
                    table[key] = record
                    versions[key] = m.get("version")
            elif kind == "ACTIVATE_VERSION":
                for key in [k for k, v in versions.items() if v is None or v < m["version"]]:
                    table.pop(key, None)
                    versions.pop(key, None)
        return self

    def keys(self, stream: str) -> set[Key]:
        return set(self.tables.get(stream, {}))


def truth_keys(tt: dict[str, t.Any], users: t.Iterable[dict[str, t.Any]]) -> dict[str, set[Key]]:
    """Per table, the keys the sandbox holds (`tenant_truth()` and `truth()`)."""

    def nested(name: str, *fields: str, parent_first: bool = True) -> set[Key]:
        out: set[Key] = set()
        for parent, items in tt[name].items():
            for item in items:
                values = tuple(str(item[f]) for f in fields)
                out.add((parent, *values) if parent_first else values)
        return out

    ids = {
        name: {(str(r["id"]),) for r in tt[name]}
        for name in (
            "roles",
            "organizations",
            "client_grants",
            "grants",
            "resource_servers",
            "connections",
            "actions",
            "log_streams",
        )
    }
    return {
        "users": {(u["user_id"],) for u in users},
        "user_detail": {(u["user_id"],) for u in users},
        **ids,
        "clients": {(c["client_id"],) for c in tt["clients"]},
        "role_permissions": nested(
            "role_permissions", "resource_server_identifier", "permission_name"
        ),
        "role_members": nested("role_users", "user_id"),
        "organization_members": nested("organization_members", "user_id"),
        "organization_member_roles": {
            (oid, uid, str(r["id"]))
            for oid, per_user in tt["organization_member_roles"].items()
            for uid, roles in per_user.items()
            for r in roles
        },
        "organization_connections": nested("organization_enabled_connections", "connection_id"),
        "organization_invitations": nested("organization_invitations", "id", parent_first=False),
        "connection_clients": nested("connection_clients", "client_id"),
        "user_permissions": nested(
            "user_permissions", "resource_server_identifier", "permission_name"
        ),
        "user_authentication_methods": nested("user_authentication_methods", "id"),
        "user_sessions": nested("user_sessions", "id"),
        "user_refresh_tokens": nested("user_refresh_tokens", "id"),
    }
