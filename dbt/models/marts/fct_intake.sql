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
        content

    from intakes

)

select * from final
