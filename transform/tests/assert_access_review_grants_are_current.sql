-- Every row of auth0_access_review is a grant in force: present in its tenant's current
-- membership staging tables (role_members for `direct`, organization_member_roles for an
-- organization).
select review.tenant, review.user_id, review.role_id, review.source
from {{ ref('auth0_access_review') }} as review
where not (
    (review.source_type = 'direct' and exists (
        select 1 from {{ ref('stg_auth0__role_members') }} as members
        where members.tenant = review.tenant
          and members.user_id = review.user_id
          and members.role_id = review.role_id))
    or (review.source_type = 'organization' and exists (
        select 1 from {{ ref('stg_auth0__organization_member_roles') }} as member_roles
        where member_roles.tenant = review.tenant
          and member_roles.user_id = review.user_id
          and member_roles.role_id = review.role_id
          and member_roles.organization_id = review.organization_id))
)
