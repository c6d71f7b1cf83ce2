-- A closed interval ends after it began; at the same instant only where both bounds are log
-- events (the log's dates are milliseconds: a grant and its revoke can share one).
select tenant, user_id, access_kind, target_id, organization_id, valid_from, valid_to
from {{ ref('auth0_access_history') }}
where valid_to < valid_from
   or (valid_to = valid_from and not (valid_from_source = 'log' and valid_to_source <> 'run'))
