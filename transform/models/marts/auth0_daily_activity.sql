-- One row per tenant and UTC day, from the tenant's first to its last day with log events or
-- daily stats (days without activity are rows of zeros): logins, signups and failed logins
-- counted from `logs`, distinct users logging in, and `stats_daily`'s own figures beside them
-- (null when `stats_daily` was not extracted; 0 on a day it has no row for, as Auth0 omits
-- such days).
{%- set stats_extracted = auth0_extracted('stats_daily') %}

with recursive events as (
    select
        tenant,
        event_date,
        count(case when event_category = 'login_success' then 1 end) as logins,
        count(case when event_category = 'signup' then 1 end) as signups,
        count(case when event_category = 'login_failure' then 1 end) as failed_logins,
        count(distinct case when event_category = 'login_success' then user_id end)
            as users_logging_in,
        count(*) as log_events
    from {{ ref('stg_auth0__logs') }}
    group by tenant, event_date
),

stats as (
    select
        tenant,
        {{ auth0_day('stats_date') }} as stats_date,
        cast(sum(logins) as {{ dbt.type_bigint() }}) as logins,
        cast(sum(signups) as {{ dbt.type_bigint() }}) as signups,
        cast(sum(leaked_passwords) as {{ dbt.type_bigint() }}) as leaked_passwords
    from {{ ref('stg_auth0__stats_daily') }}
    group by tenant, {{ auth0_day('stats_date') }}
),

bounds as (
    select tenant, min(day) as first_day, max(day) as last_day
    from (
        select tenant, event_date as day from events
        union all
        select tenant, stats_date as day from stats
    ) as days
    group by tenant
),

calendar as (
    select tenant, first_day as activity_date from bounds where first_day is not null
    union all
    select calendar.tenant, cast(calendar.activity_date + 1 as date)
    from calendar
    inner join bounds on bounds.tenant = calendar.tenant
    where calendar.activity_date < bounds.last_day
)

select
    calendar.tenant,
    calendar.activity_date,
    coalesce(events.logins, 0) as logins,
    coalesce(events.signups, 0) as signups,
    coalesce(events.failed_logins, 0) as failed_logins,
    coalesce(events.users_logging_in, 0) as users_logging_in,
    coalesce(events.log_events, 0) as log_events,
{%- if stats_extracted %}
    coalesce(stats.logins, 0) as stats_logins,
    coalesce(stats.signups, 0) as stats_signups,
    coalesce(stats.leaked_passwords, 0) as stats_leaked_passwords
{%- else %}
    cast(null as {{ dbt.type_bigint() }}) as stats_logins,  -- stats_daily not extracted
    cast(null as {{ dbt.type_bigint() }}) as stats_signups,
    cast(null as {{ dbt.type_bigint() }}) as stats_leaked_passwords
{%- endif %}
from calendar
left join events
    on events.tenant = calendar.tenant and events.event_date = calendar.activity_date
left join stats
    on stats.tenant = calendar.tenant and stats.stats_date = calendar.activity_date
