-- One row per tenant, UTC day and application with at least one login attempt: successful and
-- failed logins and distinct users, the application named from `clients` (else the name the
-- log event carries).
with attempts as (
    select tenant, event_date, client_id, client_name, event_category, user_id
    from {{ ref('stg_auth0__logs') }}
    where event_category in ('login_success', 'login_failure') and client_id is not null
),

per_app as (
    select
        tenant,
        event_date,
        client_id,
        max(client_name) as logged_client_name,
        count(case when event_category = 'login_success' then 1 end) as logins,
        count(case when event_category = 'login_failure' then 1 end) as failed_logins,
        count(distinct case when event_category = 'login_success' then user_id end)
            as users_logging_in
    from attempts
    group by tenant, event_date, client_id
)

select
    per_app.tenant,
    per_app.event_date as activity_date,
    per_app.client_id,
    coalesce(clients.app_name, per_app.logged_client_name) as app_name,
    clients.app_type,
    per_app.logins,
    per_app.failed_logins,
    per_app.users_logging_in
from per_app
left join {{ ref('stg_auth0__clients') }} as clients
    on clients.tenant = per_app.tenant and clients.client_id = per_app.client_id
