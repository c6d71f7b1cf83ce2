"""Connections (identity sources) and which applications each is enabled for.

`options` holds IdP client secrets, signing certificates and database scripts: never asked
for, and dropped again if Auth0 sends it anyway.
"""

from __future__ import annotations

import typing as t

from tap_auth0.client import Auth0Stream
from tap_auth0.pagination import CheckpointPaginator


class ConnectionsStream(Auth0Stream):
    name = "connections"
    path = "/connections"
    records_key = "connections"
    primary_keys = ("id",)
    paginator = CheckpointPaginator()
    scopes = ("read:connections",)
    secret_fields = ("options",)
    child_context: t.ClassVar[dict[str, str]] = {"connection_id": "id"}
    item_path = "/connections/{id}"
    tombstones = True


class ConnectionClientsStream(Auth0Stream):
    """`GET /connections/{id}/clients`: checkpoint paging only."""

    name = "connection_clients"
    parent = ConnectionsStream
    path = "/connections/{connection_id}/clients"
    records_key = "clients"
    primary_keys = ("connection_id", "client_id")
    paginator = CheckpointPaginator()
    scopes = ("read:connections",)
