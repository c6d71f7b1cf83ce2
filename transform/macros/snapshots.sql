{#-
  The time a snapshot records (`dbt_valid_from`, `dbt_valid_to`): the build's start in UTC,
  one instant for every snapshot of a build. dbt's own (`now()` cast to a timestamp without
  zone) takes the session's time zone, while every landed timestamp is UTC; and each
  snapshot would get its own instant, so one build's snapshots would disagree.
-#}
{% macro auth0_build_time() -%}
  cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro postgres__snapshot_get_time() -%}
  {{ auth0_build_time() }}
{%- endmacro %}

{% macro duckdb__snapshot_get_time() -%}
  {{ auth0_build_time() }}
{%- endmacro %}
