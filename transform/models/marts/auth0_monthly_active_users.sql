-- One row per calendar month (UTC) with log events: distinct users with a successful login
-- (monthly active users), logins and signups, and Auth0's own 30-day active-user figure
-- (`stats_active_users`) from the month's latest reading, when that stream has one.
with events as (
    select
        {{ auth0_month('event_at') }} as month_start,
        event_category,
        user_id
    from {{ ref('stg_auth0__logs') }}
),

per_month as (
    select
        month_start,
        count(distinct case when event_category = 'login_success' then user_id end)
            as monthly_active_users,
        count(case when event_category = 'login_success' then 1 end) as logins,
        count(case when event_category = 'signup' then 1 end) as signups
    from events
    group by month_start
),

readings as (
    select
        {{ auth0_month('stats_date') }} as month_start,
        active_users,
        row_number() over (
            partition by {{ auth0_month('stats_date') }} order by stats_date desc
        ) as latest
    from {{ ref('stg_auth0__stats_active_users') }}
)

select
    per_month.month_start,
    per_month.monthly_active_users,
    per_month.logins,
    per_month.signups,
    readings.active_users as auth0_active_users_30d
from per_month
left join readings on readings.month_start = per_month.month_start and readings.latest = 1
