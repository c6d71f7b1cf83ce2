-- A grant's evidence is a grant of that very access in the log: the event named by
-- `granted_log_id` (in the same tenant's log) granted this user this role (in this organization), at `granted_at`.
select review.tenant, review.user_id, review.role_id, review.source
from {{ ref('auth0_access_review') }} as review
where review.granted_log_id is not null
  and not exists (
      select 1
      from {{ ref('stg_auth0__access_changes') }} as changes
      where changes.tenant = review.tenant
        and changes.log_id = review.granted_log_id
        and changes.change_type = 'grant'
        and changes.user_id = review.user_id
        and changes.role_id = review.role_id
        and changes.event_at = review.granted_at
        and coalesce(changes.organization_id, '') = coalesce(review.organization_id, '')
  )
