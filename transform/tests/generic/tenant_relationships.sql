{#- Every non-null `column_name` of `model` is a `field` of `to` in the same tenant (dbt's
    `relationships`, per tenant: an id of one tenant must not be satisfied by another's). -#}
{% test tenant_relationships(model, column_name, to, field) %}
select child.tenant, child.{{ column_name }}
from {{ model }} as child
where child.{{ column_name }} is not null
  and not exists (
      select 1
      from {{ to }} as parent
      where parent.tenant = child.tenant and parent.{{ field }} = child.{{ column_name }}
  )
{% endtest %}
