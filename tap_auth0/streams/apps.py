"""Applications (clients), what each may call (client grants), and users' consents (grants).

A client's secret, signing and encryption keys, authentication methods and add-on settings
are credentials: they are never asked for (the README never needs `read:client_keys`) and
are dropped again if Auth0 sends them anyway.
"""

from __future__ import annotations

import typing as t

from tap_auth0.client import Auth0Stream
from tap_auth0.pagination import CheckpointPaginator, OffsetPaginator


class ClientsStream(Auth0Stream):
    name = "clients"
    path = "/clients"
    records_key = "clients"
    primary_keys = ("client_id",)
    paginator = CheckpointPaginator()
    scopes = ("read:clients", "read:client_summary", "read:client_keys", "read:client_credentials")
    tombstones = True
    secret_fields = (
        "client_secret",
        "signing_keys",
        "encryption_key",
        "client_authentication_methods",
        "addons",
    )


class ClientGrantsStream(Auth0Stream):
    name = "client_grants"
    path = "/client-grants"
    records_key = "client_grants"
    primary_keys = ("id",)
    paginator = CheckpointPaginator()
    scopes = ("read:client_grants",)
    tombstones = True


class GrantsStream(Auth0Stream):
    """Users' consents to applications; Auth0 spells the client `clientID` here."""

    name = "grants"
    path = "/grants"
    records_key = "grants"
    primary_keys = ("id",)
    paginator = OffsetPaginator()
    scopes = ("read:grants",)
    tombstones = True
    renamed_fields: t.ClassVar[dict[str, str]] = {"clientID": "client_id"}
