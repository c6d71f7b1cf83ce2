{#-
  One row per `dbt build` and tenant with a log (never invalidated): the build's id, its
  start (UTC: the time its snapshots record, macros/snapshots.sql) and the latest log event
  of that tenant landed so far (`log_through`). The tap reads a tenant's log before it
  re-reads what the log names, so the memberships a build snapshots reflect every log event
  of the tenant up to its `log_through`; a later event, a later build. Per tenant, since each
  tenant is extracted by its own run: one tenant's log can be ahead of another's, and a
  build has read an event only when its own tenant's log got that far.
  auth0_access_history reads it to find the first build that had read a log event. A SQL
  snapshot, so the select is rendered by each invocation that takes it.
-#}
{% snapshot snp_auth0__builds %}
{{ config(unique_key=['build_id', 'tenant'], strategy='check', check_cols=['build_id', 'tenant'], hard_deletes='ignore') }}
select
    cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as build_id,
    logs.tenant,
    {{ auth0_build_time() }} as built_at,
    logs.log_through
from (
    select tenant, max(event_at) as log_through
    from {{ ref('stg_auth0__logs') }}
    group by tenant
) as logs
{% endsnapshot %}
