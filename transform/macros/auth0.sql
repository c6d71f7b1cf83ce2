{#-
  Helpers for the staging models. Tables land from target-duckdb (nested values as JSON) and
  target-postgres (objects as jsonb, arrays of objects as jsonb[], arrays of strings as
  text[]); the dispatched macros below hide the difference.
-#}

{#-
  The tenants the models read, each {name, schema}: from the var `tenants` (one schema per
  tenant, as the layout of docs/tenants.md loads them; Fivetran's packages call it
  `union_schemas`), else the one source schema (`source('auth0', name)`, as before).
  The var: a list of schemas or of {name, schema}, or (from the environment variable
  AUTH0_TENANTS) a comma-separated string of `schema` or `name:schema`. A tenant's name: its
  `name` when given, else the `tenant` column the tap writes (read from the schema's `users`),
  else the schema's name without a leading `auth0_` (`auth0_acme` -> `acme`). One name per
  schema, so rows landed before the tap wrote `tenant` join the rows landed after.
-#}
{% macro auth0_tenants(name) %}
  {%- set value = var('tenants', none) -%}
  {%- set entries = [] -%}
  {%- if value is string -%}
    {%- for item in value.split(',') if item.strip() -%}
      {%- set parts = item.strip().split(':', 1) -%}
      {%- do entries.append({'name': parts[0].strip(), 'schema': parts[1].strip()} if parts | length == 2 else {'schema': parts[0]}) -%}
    {%- endfor -%}
  {%- elif value -%}
    {%- for item in value -%}
      {%- do entries.append(item if item is mapping else {'schema': item}) -%}
    {%- endfor -%}
  {%- endif -%}
  {%- if not entries -%}
    {%- do entries.append({'schema': source('auth0', name).schema}) -%}
  {%- endif -%}
  {%- set out = [] -%}
  {%- for e in entries -%}
    {%- do out.append({'name': e.get('name') or auth0_schema_tenant(e['schema']), 'schema': e['schema']}) -%}
  {%- endfor -%}
  {{ return(out) }}
{% endmacro %}

{#- The tenant name of a schema not named in the var: the tap's `tenant` column (any row of
    `users`), else the schema's name without a leading `auth0_`. -#}
{% macro auth0_schema_tenant(schema) %}
  {%- set derived = schema[6:] if schema.lower().startswith('auth0_') and schema | length > 6 else schema -%}
  {%- set users = auth0_relation('users', schema) -%}
  {%- if users is not none and auth0_has_column(users, 'tenant') -%}
    {%- set found = run_query('select "tenant" from ' ~ users ~ ' where "tenant" is not null limit 1') -%}
    {%- if found.rows | length > 0 and found.rows[0][0] -%}
      {{ return(found.rows[0][0]) }}
    {%- endif -%}
  {%- endif -%}
  {{ return(derived) }}
{% endmacro %}

{#- The landed table `name` in `schema` (default: the source's), or none when that stream
    was never extracted there (e.g. opt-in streams). -#}
{% macro auth0_relation(name, schema=none) %}
  {%- set src = source('auth0', name) -%}
  {%- if not execute -%}
    {{ return(none) }}
  {%- endif -%}
  {{ return(adapter.get_relation(database=src.database, schema=schema or src.schema, identifier=src.identifier)) }}
{% endmacro %}

{#- [[tenant, relation], ...]: the tenants whose schema holds the landed table `name`. -#}
{% macro auth0_tenant_relations(name) %}
  {%- set out = [] -%}
  {%- do source('auth0', name) -%}  {#- the model's lineage: parsing records the source -#}
  {%- if execute -%}
    {%- for t in auth0_tenants(name) -%}
      {%- set rel = auth0_relation(name, t['schema']) -%}
      {%- if rel is not none -%}{%- do out.append([t['name'], rel]) -%}{%- endif -%}
    {%- endfor -%}
  {%- endif -%}
  {{ return(out) }}
{% endmacro %}

{#- `'<tenant>'` as a typed SQL literal. -#}
{% macro auth0_tenant_literal(tenant) -%}
  cast('{{ tenant | replace("'", "''") }}' as {{ dbt.type_string() }})
{%- endmacro %}

{#-
  select tenant, <expr> as <name>, ... from the landed table's live rows (auth0_live), one
  select per tenant schema, `union all`; when no tenant's schema has the table (a stream not
  extracted), the same columns, all null, and no rows.
  columns: [[name, type, expression], ...]; parents, users: see auth0_live.
-#}
{% macro auth0_staging(name, columns, parents=[], users=none) %}
  {%- set parts = auth0_tenant_relations(name) -%}
  {%- if parts -%}
    {%- for tenant, rel in parts %}
select
    {{ auth0_tenant_literal(tenant) }} as tenant,
  {%- for c in columns %}
    cast({{ c[2] }} as {{ c[1] }}) as {{ c[0] }}{{ "," if not loop.last }}
  {%- endfor %}
from {{ rel }} as src
where {{ auth0_live(rel, parents, users) }}
      {{- "\nunion all" if not loop.last }}
    {%- endfor %}
  {%- else %}
select
    cast(null as {{ dbt.type_string() }}) as tenant,
  {%- for c in columns %}
    cast(null as {{ c[1] }}) as {{ c[0] }}{{ "," if not loop.last }}
  {%- endfor %}
where 1 = 0  {#- stream `{{ name }}` not extracted -#}
  {%- endif %}
{% endmacro %}

{#- Whether a landed table has a column (the loaders' `_sdc_*` ones are optional). -#}
{% macro auth0_has_column(rel, column) %}
  {%- if not execute -%}{{ return(false) }}{%- endif -%}
  {%- for c in adapter.get_columns_in_relation(rel) -%}
    {%- if c.name | lower == column -%}{{ return(true) }}{%- endif -%}
  {%- endfor -%}
  {{ return(false) }}
{% endmacro %}

{#- `<alias>._sdc_deleted_at is null` where the table has the column, else `true`. -#}
{% macro auth0_not_deleted(rel, alias) %}
  {{- return(alias ~ '."_sdc_deleted_at" is null' if auth0_has_column(rel, '_sdc_deleted_at') else 'true') -}}
{% endmacro %}

{#-
  The condition for `src`'s live rows: not deleted (a tombstone or a version ACTIVATE_VERSION
  retired: `_sdc_deleted_at`), under a live parent (a deleted role's or organization's
  children may stay in the raw tables until the next full pass), and of a live user. Parents
  and users are looked up in `rel`'s own schema: a tenant's deletions never hide another
  tenant's rows.
  parents: [[stream, [[child column, parent column], ...]], ...]; a parent not extracted
  does not filter. users: the column holding a user_id; its user must be live in `users`
  (or, with the var `auth0_users_filtered` when the tap's `connection`/`search_query` narrow
  `users`, not be a tombstone there).
-#}
{% macro auth0_live(rel, parents=[], users=none) %}
  {%- set conds = [auth0_not_deleted(rel, 'src')] -%}
  {%- for p in parents -%}
    {%- set prel = auth0_relation(p[0], rel.schema) -%}
    {%- if prel is not none -%}
      {%- set keys = [] -%}
      {%- for k in p[1] -%}{%- do keys.append('p."' ~ k[1] ~ '" = src."' ~ k[0] ~ '"') -%}{%- endfor -%}
      {%- do conds.append('exists (select 1 from ' ~ prel ~ ' as p where ' ~ keys | join(' and ') ~ ' and ' ~ auth0_not_deleted(prel, 'p') ~ ')') -%}
    {%- endif -%}
  {%- endfor -%}
  {%- set urel = auth0_relation('users', rel.schema) if users else none -%}
  {%- if urel is not none and not var('auth0_users_filtered', false) -%}
    {#- Every user is extracted: a row's user must be a live one (a deleted user's row is
        gone with hard_delete, marked without). -#}
    {%- do conds.append('exists (select 1 from ' ~ urel ~ ' as u where u."user_id" = src."' ~ users ~ '" and ' ~ auth0_not_deleted(urel, 'u') ~ ')') -%}
  {%- elif urel is not none and auth0_has_column(urel, '_sdc_deleted_at') -%}
    {#- `connection` / `search_query` narrow `users`: only a tombstoned user is known gone. -#}
    {%- do conds.append('not exists (select 1 from ' ~ urel ~ ' as u where u."user_id" = src."' ~ users ~ '" and u."_sdc_deleted_at" is not null)') -%}
  {%- endif -%}
  {{- return(conds | join('\n  and ')) -}}
{% endmacro %}

{#- Whether a stream was extracted (its table exists in some tenant's schema). -#}
{% macro auth0_extracted(name) %}
  {{ return(auth0_tenant_relations(name) | length > 0) }}
{% endmacro %}

{#- Text of key `key` of a JSON object column. -#}
{% macro auth0_json_text(column, key) %}
  {{ return(adapter.dispatch('auth0_json_text')(column, key)) }}
{% endmacro %}
{% macro default__auth0_json_text(column, key) -%}
  ({{ column }} ->> '{{ key }}')
{%- endmacro %}
{% macro duckdb__auth0_json_text(column, key) -%}
  json_extract_string({{ column }}, '$.{{ key }}')
{%- endmacro %}

{#- Length of an array of objects (DuckDB: JSON array; PostgreSQL: jsonb[]). -#}
{% macro auth0_array_length(column) %}
  {{ return(adapter.dispatch('auth0_array_length')(column)) }}
{% endmacro %}
{% macro default__auth0_array_length(column) -%}
  coalesce(cardinality({{ column }}), 0)
{%- endmacro %}
{% macro duckdb__auth0_array_length(column) -%}
  coalesce(json_array_length({{ column }}), 0)
{%- endmacro %}

{#- Text of key `key` of element `index` (0-based expression) of an array of objects. -#}
{% macro auth0_array_item_text(column, index, key) %}
  {{ return(adapter.dispatch('auth0_array_item_text')(column, index, key)) }}
{% endmacro %}
{% macro default__auth0_array_item_text(column, index, key) -%}
  (({{ column }})[({{ index }}) + 1] ->> '{{ key }}')
{%- endmacro %}
{% macro duckdb__auth0_array_item_text(column, index, key) -%}
  json_extract_string({{ column }}, '$[' || cast({{ index }} as varchar) || '].{{ key }}')
{%- endmacro %}

{#- As a select-list item: one row per index 0 .. n-1 (a set-returning expression). -#}
{% macro auth0_index_series(n) %}
  {{ return(adapter.dispatch('auth0_index_series')(n)) }}
{% endmacro %}
{% macro default__auth0_index_series(n) -%}
  generate_series(0, ({{ n }}) - 1)
{%- endmacro %}
{% macro duckdb__auth0_index_series(n) -%}
  unnest(range(cast({{ n }} as bigint)))
{%- endmacro %}

{#- A timestamp's UTC calendar day (landed timestamps are UTC without a zone). -#}
{% macro auth0_day(column) -%}
  cast({{ column }} as date)
{%- endmacro %}

{#- First day of a timestamp's month, as a date. -#}
{% macro auth0_month(column) -%}
  cast({{ dbt.date_trunc('month', column) }} as date)
{%- endmacro %}

{#- The profile columns `users` and `user_detail` share (the same Auth0 user object: one
    from the search index, one from GET /users/{id}), typed and renamed once. -#}
{% macro auth0_user_profile_columns() %}
  {{ return([
    ['is_blocked', dbt.type_boolean(), '"blocked"'],
    ['created_at', dbt.type_timestamp(), '"created_at"'],
    ['email', dbt.type_string(), '"email"'],
    ['is_email_verified', dbt.type_boolean(), '"email_verified"'],
    ['family_name', dbt.type_string(), '"family_name"'],
    ['given_name', dbt.type_string(), '"given_name"'],
    ['last_ip', dbt.type_string(), '"last_ip"'],
    ['last_login_at', dbt.type_timestamp(), '"last_login"'],
    ['last_password_reset_at', dbt.type_timestamp(), '"last_password_reset"'],
    ['locale', dbt.type_string(), '"locale"'],
    ['logins_count', dbt.type_bigint(), '"logins_count"'],
    ['multifactor_last_modified_at', dbt.type_timestamp(), '"multifactor_last_modified"'],
    ['full_name', dbt.type_string(), '"name"'],
    ['nickname', dbt.type_string(), '"nickname"'],
    ['phone_number', dbt.type_string(), '"phone_number"'],
    ['is_phone_verified', dbt.type_boolean(), '"phone_verified"'],
    ['picture', dbt.type_string(), '"picture"'],
    ['updated_at', dbt.type_timestamp(), '"updated_at"'],
    ['user_id', dbt.type_string(), '"user_id"'],
    ['username', dbt.type_string(), '"username"']
  ]) }}
{% endmacro %}

{#- Text at a nested key path (keys: a list of names) of a JSON object column. -#}
{% macro auth0_json_path_text(column, keys) %}
  {{ return(adapter.dispatch('auth0_json_path_text')(column, keys)) }}
{% endmacro %}
{% macro default__auth0_json_path_text(column, keys) -%}
  ({{ column }} #>> '{ {{- keys | join(',') -}} }')
{%- endmacro %}
{% macro duckdb__auth0_json_path_text(column, keys) -%}
  json_extract_string({{ column }}, '$.{{ keys | join('.') }}')
{%- endmacro %}

{#- Length of the JSON array at a nested key path; 0 when the value there is no array. -#}
{% macro auth0_json_path_array_length(column, keys) %}
  {{ return(adapter.dispatch('auth0_json_path_array_length')(column, keys)) }}
{% endmacro %}
{% macro default__auth0_json_path_array_length(column, keys) -%}
  (case when jsonb_typeof({{ column }} #> '{ {{- keys | join(',') -}} }') = 'array'
        then jsonb_array_length({{ column }} #> '{ {{- keys | join(',') -}} }') else 0 end)
{%- endmacro %}
{% macro duckdb__auth0_json_path_array_length(column, keys) -%}
  (case when json_type({{ column }}, '$.{{ keys | join('.') }}') = 'ARRAY'
        then json_array_length({{ column }}, '$.{{ keys | join('.') }}') else 0 end)
{%- endmacro %}

{#- Text of element `index` (0-based expression) of the JSON array at a nested key path. -#}
{% macro auth0_json_path_item_text(column, keys, index) %}
  {{ return(adapter.dispatch('auth0_json_path_item_text')(column, keys, index)) }}
{% endmacro %}
{% macro default__auth0_json_path_item_text(column, keys, index) -%}
  (({{ column }} #> '{ {{- keys | join(',') -}} }') ->> cast({{ index }} as integer))
{%- endmacro %}
{% macro duckdb__auth0_json_path_item_text(column, keys, index) -%}
  json_extract_string({{ column }}, '$.{{ keys | join('.') }}[' || cast({{ index }} as varchar) || ']')
{%- endmacro %}

{#- A path segment percent-decoded for the characters Auth0 ids hold (`auth0%7C...`,
    emails in `samlp|conn|a@b.c`): the same few replacements on every warehouse, `%25` last. -#}
{% macro auth0_path_decode(expr) -%}
  replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
    {{ expr }}, '%7C', '|'), '%7c', '|'), '%40', '@'), '%3A', ':'), '%3a', ':'),
    '%2B', '+'), '%2b', '+'), '%2F', '/'), '%2f', '/'), '%20', ' '), '%25', '%')
{%- endmacro %}

{#- The var `privileged_roles` (role names) as a list: a YAML list (`--vars`), or a
    comma-separated string (dbt_project.yml reads AUTH0_PRIVILEGED_ROLES, so a Meltano job
    can set it in the environment). -#}
{% macro auth0_privileged_roles() %}
  {%- set value = var('privileged_roles', []) -%}
  {%- if value is string -%}
    {%- set names = [] -%}
    {%- for name in value.split(',') -%}
      {%- if name.strip() -%}{%- do names.append(name.strip()) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(names) }}
  {%- endif -%}
  {{ return(value or []) }}
{% endmacro %}
