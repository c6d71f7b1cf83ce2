"""The tenant a run reads: its name on every record, and in the STATE it writes.

Several tenants land in one warehouse only safely as a schema each (keys such as a social
login's `user_id` repeat across tenants, and a full table's ACTIVATE_VERSION would delete the
other tenant's rows). The `tenant` column tells the rows apart once a dbt project unions the
schemas, and the STATE's `tenant` catches two tenants sharing one state id, the usual sign of
two tenants loading into one schema.
"""

from __future__ import annotations

import re
import typing as t
from urllib.parse import urlsplit

from tap_auth0.errors import ConfigError

# Top level of the STATE, beside `bookmarks` (the SDK keeps only `bookmarks` of an input
# state, so the tap reads this key itself: TapAuth0.load_state).
STATE_KEY = "tenant"
# The record column, and its schema.
COLUMN = "tenant"
# Nullable: rows loaded before the column existed have none.
COLUMN_SCHEMA = {"type": ["string", "null"]}

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
AUTH0_SUFFIX = ".auth0.com"


def tenant_from_domain(origin: str) -> str | None:
    """`acme` for Auth0's own `acme.auth0.com` and `acme.<region>.auth0.com`; None for a
    custom domain, a proxy or a loopback host, whose name says nothing of the tenant."""
    host = (urlsplit(origin).hostname or "").lower()
    if not host.endswith(AUTH0_SUFFIX):
        return None
    labels = host[: -len(AUTH0_SUFFIX)].split(".")
    if len(labels) > 2 or not _NAME_RE.match(labels[0]):
        return None
    return labels[0]


def parse_tenant(value: t.Any, name: str) -> str | None:
    """The `tenant` setting: a tenant name (letters, digits, `-`, `_`), or None when unset."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or not _NAME_RE.match(value.strip()):
        raise ConfigError(
            f"Setting '{name}' must be a tenant name: letters, digits, '-' or '_', at most "
            f"64 characters (got {value!r})"
        )
    return value.strip()


def resolve_tenant(tenant: str | None, origin: str) -> str:
    """The `tenant` setting, else the name the domain gives; a domain that names no tenant
    needs the setting."""
    name = tenant or tenant_from_domain(origin)
    if name is None:
        host = urlsplit(origin).netloc
        raise ConfigError(
            f"Setting 'tenant' is required: the domain {host} does not name the tenant (only "
            "<tenant>.auth0.com and <tenant>.<region>.auth0.com do); set tenant to the "
            "tenant's name, e.g. acme"
        )
    return name


def check_state(state: t.Mapping[str, t.Any], tenant: str) -> None:
    """An input STATE written for another tenant stops the run before it writes anything:
    two tenants share a state id, and most likely one schema, where they would overwrite and
    delete each other's rows. A STATE without a tenant (from before it was kept) is taken."""
    owner = state.get(STATE_KEY)
    if owner is not None and owner != tenant:
        raise ConfigError(
            f"The state belongs to tenant {owner!r} while this run is tenant {tenant!r}: "
            "give each tenant its own extractor, state id and schema (see Several tenants "
            "in the README)"
        )
