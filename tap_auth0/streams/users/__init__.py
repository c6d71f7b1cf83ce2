"""Everything about listing users, in one place.

`stream.py` is the `users` stream and picks a strategy: the search listing (`scan.py`
splits the run's `updated_at` range into concurrent windows, each a keyset chain of
`keyset.py` past Auth0's 1,000-result cap) or a user export job (`export.py`). `detail.py`
is `user_detail` (Get a User per listed user, or per configured id); `query.py` builds the
Lucene clauses and projections both send.
"""

from tap_auth0.streams.users.detail import UserDetailByIdStream, UserDetailStream
from tap_auth0.streams.users.stream import UsersStream

__all__ = ["UserDetailByIdStream", "UserDetailStream", "UsersStream"]
