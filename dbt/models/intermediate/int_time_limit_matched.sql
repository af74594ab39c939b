-- For each lead intake without a deadline of its own: the time limit that applies (most specific rule valid
-- on the day it was received; '*' matches anything).
with

intakes as (

    select * from {{ ref('fct_intake') }}
    where is_lead and deadline_at is null and extended_deadline_at is null

),

limits as (

    select * from {{ ref('time_limits') }}

),

candidates as (

    select
        intakes.channel,
        intakes.source_id,
        limits.limit_id,
        limits.limit_value,
        limits.limit_unit,
        (case when limits.channel <> '*' then 8 else 0 end
         + case when limits.category_l1_code <> '*' then 4 else 0 end
         + case when limits.demand_type <> '*' then 2 else 0 end
         + case when limits.urgency <> '*' then 1 else 0 end) as specificity

    from intakes
    join limits
      on (limits.channel = '*' or limits.channel = intakes.channel)
     and (limits.category_l1_code = '*' or limits.category_l1_code = intakes.category_l1_code)
     and (limits.demand_type = '*' or limits.demand_type = intakes.demand_type)
     and (limits.urgency = '*' or limits.urgency = intakes.urgency)
     and intakes.received_on >= cast(limits.valid_from as date)
     and intakes.received_on <= cast(limits.valid_to as date)

),

best as (

    select
        channel,
        source_id,
        arg_max(limit_id, specificity) as limit_id,
        arg_max(limit_value, specificity) as limit_value,
        arg_max(limit_unit, specificity) as limit_unit

    from candidates
    group by channel, source_id

)

select * from best
