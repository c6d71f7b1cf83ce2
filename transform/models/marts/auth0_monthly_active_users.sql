-- One row per tenant and calendar month (UTC) with log events: distinct users with a
-- successful login (monthly active users), logins and signups, and Auth0's own 30-day
-- active-user figure (`stats_active_users`) from the month's latest reading, when that
-- stream has one. `all_tenants_monthly_active_users`: the month's active users in every
-- tenant together, the same on each tenant's row of the month. A user_id active in two
-- tenants (a social login has the same one everywhere) is two users there: two accounts, as
-- Auth0 counts them, one per tenant. With one tenant it equals `monthly_active_users`.
with events as (
    select
        tenant,
        {{ auth0_month('event_at') }} as month_start,
        event_category,
        user_id
    from {{ ref('stg_auth0__logs') }}
),

per_month as (
    select
        tenant,
        month_start,
        count(distinct case when event_category = 'login_success' then user_id end)
            as monthly_active_users,
        count(case when event_category = 'login_success' then 1 end) as logins,
        count(case when event_category = 'signup' then 1 end) as signups
    from events
    group by tenant, month_start
),

readings as (
    select
        tenant,
        {{ auth0_month('stats_date') }} as month_start,
        active_users,
        row_number() over (
            partition by tenant, {{ auth0_month('stats_date') }} order by stats_date desc
        ) as latest
    from {{ ref('stg_auth0__stats_active_users') }}
)

select
    per_month.tenant,
    per_month.month_start,
    per_month.monthly_active_users,
    per_month.logins,
    per_month.signups,
    readings.active_users as auth0_active_users_30d,
    cast(sum(per_month.monthly_active_users) over (partition by per_month.month_start)
        as {{ dbt.type_bigint() }}) as all_tenants_monthly_active_users
from per_month
left join readings
    on readings.tenant = per_month.tenant
    and readings.month_start = per_month.month_start
    and readings.latest = 1
