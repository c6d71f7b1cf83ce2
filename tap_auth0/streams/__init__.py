"""Streams, grouped by Auth0 resource."""

from tap_auth0.streams.user_detail import UserDetailStream
from tap_auth0.streams.users import UsersStream

__all__ = ["UserDetailStream", "UsersStream"]
