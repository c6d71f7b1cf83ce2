"""APIs (resource servers). `signing_secret` is the HS256 key tokens for the API are signed
with: this endpoint takes no `fields`, so it is dropped from every answer."""

from __future__ import annotations

from tap_auth0.client import Auth0Stream
from tap_auth0.pagination import OffsetPaginator


class ResourceServersStream(Auth0Stream):
    name = "resource_servers"
    path = "/resource-servers"
    records_key = "resource_servers"
    primary_keys = ("id",)
    paginator = OffsetPaginator()
    scopes = ("read:resource_servers",)
    tombstones = True
    secret_fields = ("signing_secret",)
    exclude_by_fields = False
