with

intakes as (

    select * from {{ ref('fct_intake') }}

),

quarantine as (

    select * from {{ ref('stg_core__quarantine') }}

),

intake_counts as (

    select
        received_on as day,
        channel,
        count(*) as intakes,
        count(*) filter (where is_lead) as new_cases,
        count(*) filter (where not is_lead) as merged_into_existing

    from intakes
    group by received_on, channel

),

quarantine_counts as (

    -- a rejected row has no trustworthy received time: it is counted on the day it was quarantined
    select
        quarantined_on as day,
        channel,
        count(*) as quarantined

    from quarantine
    group by quarantined_on, channel

),

final as (

    select
        day,
        channel,
        coalesce(intake_counts.intakes, 0) as intakes,
        coalesce(intake_counts.new_cases, 0) as new_cases,
        coalesce(intake_counts.merged_into_existing, 0) as merged_into_existing,
        coalesce(quarantine_counts.quarantined, 0) as quarantined

    from intake_counts
    full outer join quarantine_counts using (day, channel)

)

select * from final
