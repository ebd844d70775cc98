-- The current state of each unit that has had an approval action: its last event gives the state;
-- the signature in force is the approve event it names (none once unapproved), accepted by the
-- last accept of that signature.
with last as (
    select * from ops.approval_event
    qualify row_number() over (partition by province_code, school_year, period order by event_id desc) = 1
), accepts as (
    select signature_id, arg_max(actor, event_id) as accepted_by, max(acted_at) as accepted_at
    from ops.approval_event where action = 'accept' group by 1
)
select l.province_code, l.school_year, l.period, l.state_after as state,
       case when l.state_after <> 'open' then l.signature_id end as signature_id,
       case when l.state_after <> 'open' then l.fingerprint end as fingerprint,
       case when l.state_after <> 'open' then l.values_signed end as values_signed,
       case when l.state_after <> 'open' then s.actor end as approved_by,
       case when l.state_after <> 'open' then s.acted_at end as approved_at,
       case when l.state_after = 'accepted' then a.accepted_by end as accepted_by,
       case when l.state_after = 'accepted' then a.accepted_at end as accepted_at,
       l.event_id as last_event_id, l.action as last_action, l.actor as last_actor,
       l.actor_level as last_actor_level, l.acted_at as last_action_at
from last l
left join ops.approval_event s on s.event_id = l.signature_id
left join accepts a on a.signature_id = l.signature_id
