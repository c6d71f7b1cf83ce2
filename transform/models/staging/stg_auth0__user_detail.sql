-- `user_detail`: typed and renamed (the same profile columns as `users`).
{{ auth0_staging('user_detail', auth0_user_profile_columns(), [], users='user_id') }}
