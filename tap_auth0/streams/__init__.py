"""Streams, grouped by Auth0 resource."""

from tap_auth0.streams.users import UserDetailStream, UsersStream

__all__ = ["UserDetailStream", "UsersStream"]
