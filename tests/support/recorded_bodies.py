"""Verbatim Auth0 bodies and headers (users, errors, export jobs, token, rate limit) from
the SDK cassettes (see tests/fixtures/recordings/RECORDINGS.md) and Auth0's docs, as
constants: what the sandbox must answer exactly."""

from __future__ import annotations

# ruby-auth0 Users/_users/should_have_at_least_one_user.yml (GET /api/v2/users, 2021-09-03)
USER_WITH_LOGIN = {
    "created_at": "2021-09-03T07:07:20.288Z",
    "email": "rubytest-210903-username-1@auth0.com",
    "email_verified": False,
    "identities": [
        {
            "user_id": "6131c9a8460fa0006a17e4b8",
            "provider": "auth0",
            "connection": "Username-Password-Authentication",
            "isSocial": False,
        }
    ],
    "name": "rubytest-210903-username-1@auth0.com",
    "nickname": "rubytest-210903-username-1",
    "picture": "https://s.gravatar.com/avatar/fdd07a60850553d36e9a6360bea6fe72?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2Fru.png",
    "updated_at": "2021-09-03T07:08:20.562Z",
    "user_id": "auth0|6131c9a8460fa0006a17e4b8",
    "last_login": "2021-09-03T07:08:20.562Z",
    "last_ip": "2603:9008:1a05:f179:b872:5281:13d6:5758",
    "logins_count": 3,
}
USER_LINKED = {
    "created_at": "2021-09-03T06:29:47.961Z",
    "email": "rubytest-210902-rubytest-210902-username@auth0.com",
    "email_verified": True,
    "identities": [
        {
            "connection": "Username-Password-Authentication",
            "user_id": "6131c0dbce67b00071910e02",
            "provider": "auth0",
            "isSocial": False,
        },
        {
            "profileData": {
                "email": "rubytest-210902-rubytest-210902-username-secondary@auth0.com",
                "email_verified": False,
            },
            "connection": "Username-Password-Authentication",
            "user_id": "6131c0dc148a95006b32b614",
            "provider": "auth0",
            "isSocial": False,
        },
    ],
    "name": "rubytest-210902-rubytest-210902-username@auth0.com",
    "nickname": "rubytest-210902-rubytest-210902-username",
    "picture": "https://s.gravatar.com/avatar/18b1ec8cbc12623d9e2e14697a8dd355?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2Fru.png",
    "updated_at": "2021-09-03T06:29:52.303Z",
    "user_id": "auth0|6131c0dbce67b00071910e02",
    "user_metadata": {"addresses": {"home_address": "742 Evergreen Terrace"}},
    "multifactor_last_modified": "2021-09-03T06:29:52.053Z",
}
# go-auth0 TestUserManager_Read.yaml (GET /api/v2/users/{id})
USER_FULL = {
    "blocked": False,
    "created_at": "2023-01-25T19:00:26.539Z",
    "email": "chuck878@example.com",
    "email_verified": True,
    "family_name": "Sanchez",
    "given_name": "Chuck",
    "identities": [
        {
            "connection": "Username-Password-Authentication",
            "user_id": "63d17c4a9d503d76c056c160",
            "provider": "auth0",
            "isSocial": False,
        }
    ],
    "name": "chuck878@example.com",
    "nickname": "Chucky",
    "picture": "https://example-picture-url.jpg",
    "updated_at": "2023-01-25T19:00:26.539Z",
    "user_id": "auth0|63d17c4a9d503d76c056c160",
    "user_metadata": {"favourite_attack": "roundhouse_kick"},
    "username": "test-user636",
    "app_metadata": {
        "facts": [
            "count_to_infinity_twice",
            "kill_two_stones_with_one_bird",
            "can_hear_sign_language",
        ]
    },
}
RECORDED_USERS = [USER_WITH_LOGIN, USER_LINKED, USER_FULL]

# go-auth0 TestUserManager_List.yaml: include_totals=true envelope (key order as recorded)
TOTALS_KEYS = ["start", "limit", "length", "users", "total"]

# go-auth0 TestUserManager_Delete.yaml / terraform TestAccDataSourceUser
USER_404 = {
    "statusCode": 404,
    "error": "Not Found",
    "message": "The user does not exist.",
    "errorCode": "inexistent_user",
}

# API-NOTES.md (Auth0 docs)
PAGING_400 = {
    "statusCode": 400,
    "error": "Bad Request",
    "message": "You can only page through the first 1000 records. See "
    "https://auth0.com/docs/users/search/v3/view-search-results-by-page#limitation",
    "errorCode": "invalid_paging",
}
RATE_429 = {
    "statusCode": 429,
    "error": "Too Many Requests",
    "message": "Global limit has been reached",
    "errorCode": "too_many_requests",
}

# go-auth0 TestJobManager_ExportUsers.yaml (POST /jobs/users-exports with everything)
EXPORT_JOB_FULL = {
    "type": "users_export",
    "status": "pending",
    "connection_id": "con_ftSSLHb0O7rcUGmF",
    "format": "json",
    "limit": 5,
    "fields": [{"name": "name"}, {"name": "email"}, {"name": "identities[0].connection"}],
    "connection": "Username-Password-Authentication",
    "created_at": "2023-01-25T17:48:15.325Z",
    "id": "job_iSjvljNtsTMmSpRW",
}
# ruby-auth0 Jobs/_export_users_and_get_job (only connection_id -> csv default)
EXPORT_JOB_MINIMAL = {
    "type": "users_export",
    "status": "pending",
    "connection_id": "con_Xx4Kruoab04wvlYX",
    "format": "csv",
    "connection": "Username-Password-Authentication",
    "created_at": "2021-09-03T20:16:28.622Z",
    "id": "job_9HuTvJsi2KpY7Vtv",
}
# go-auth0 authentication TestLoginWithClientCredentials (sanitised)
TOKEN_RESPONSE = {"access_token": "test-access-token", "expires_in": 86400, "token_type": "Bearer"}
# ruby-auth0 response headers
RATELIMIT_HEADERS = {
    "X-Ratelimit-Limit": "50",
    "X-Ratelimit-Remaining": "49",
    "X-Ratelimit-Reset": "1630700207",
}
