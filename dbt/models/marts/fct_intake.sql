-- Every intake of every channel: its case, unified category and place (the contract), plus the intake's own
-- handling as its feed reports it, which int_case_lifecycle reads for the lead intakes. The one stored copy of
-- int_intake_unified (a view): the models downstream read this table rather than recompute the joins.
with

intakes as (

    select * from {{ ref('int_intake_unified') }}

),

final as (

    select
        channel,
        source_id,
        received_at,
        received_on,
        case_id,
        link_type,
        is_lead,
        match_score,
        demand_type,
        category_l1_code,
        category_l1,
        category_l2,
        category_l2_code,
        is_unmapped_category,
        source_category,
        urgency,
        street_code,
        community_code,
        lon,
        lat,
        caller_key,
        title,
        address,
        content,
        unit,
        dispatched_at,
        signed_at,
        deadline_at,
        extended_deadline_at,
        closed_at,
        rating,
        reopened,
        urge_count

    from intakes

)

select * from final
