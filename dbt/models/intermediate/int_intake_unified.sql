-- One row per intake, all channels: its case (the surviving one), unified category, place and handling facts.
with

intakes as (

    select * from {{ ref('stg_core__intake') }}

),

links as (

    select * from {{ ref('stg_core__case_link') }}

),

survivors as (

    select * from {{ ref('int_case_survivor') }}

),

mapping as (

    select * from {{ ref('category_mapping') }}

),

taxonomy as (

    select * from {{ ref('category_taxonomy') }}

),

aliases as (

    select * from {{ ref('unit_aliases') }}

),

labelled as (

    select
        intakes.*,
        -- a feed label 'a/b/c' is looked up whole, then as 'a/b', then 'a', then by its last level 'c'
        array_to_string(string_split(source_category, '/')[1:2], '/') as source_label_2,
        split_part(source_category, '/', 1) as source_label_1,
        string_split(source_category, '/')[-1] as source_label_last

    from intakes

),

categorised as (

    select
        labelled.*,
        coalesce(m3.category_l2_code, m2.category_l2_code, m1.category_l2_code, ml.category_l2_code,
                 fallback.category_l2_code)
            as category_l2_code,
        coalesce(m3.category_l2_code, m2.category_l2_code, m1.category_l2_code, ml.category_l2_code) is null as is_unmapped_category,
        coalesce(labelled.demand_type, nullif(m3.demand_type, ''), nullif(m2.demand_type, ''),
                 nullif(m1.demand_type, ''), nullif(ml.demand_type, '')) as demand_type_resolved

    from labelled
    left join mapping as m3 on m3.channel = labelled.channel and m3.source_label = labelled.source_category
    left join mapping as m2 on m2.channel = labelled.channel and m2.source_label = labelled.source_label_2
    left join mapping as m1 on m1.channel = labelled.channel and m1.source_label = labelled.source_label_1
    left join mapping as ml on ml.channel = labelled.channel and ml.source_label = labelled.source_label_last
    cross join (select category_l2_code from taxonomy where is_fallback) as fallback

),

final as (

    select
        categorised.channel,
        categorised.source_id,
        categorised.received_at,
        cast(categorised.received_at as date) as received_on,
        survivors.surviving_case_id as case_id,
        links.case_id as linked_case_id,
        links.link_type,
        -- the lead of a case that was merged away is no longer a lead: the survivor keeps its own
        coalesce(links.is_lead and links.case_id = survivors.surviving_case_id, false) as is_lead,
        links.match_score,
        categorised.demand_type_resolved as demand_type,
        taxonomy.category_l1_code,
        taxonomy.category_l1,
        taxonomy.category_l2_code,
        taxonomy.category_l2,
        categorised.is_unmapped_category,
        categorised.source_category,
        categorised.urgency,
        categorised.street_code,
        categorised.community_code,
        categorised.lon,
        categorised.lat,
        categorised.address,
        categorised.caller_key,
        categorised.title,
        categorised.content,
        coalesce(aliases.unit, categorised.unit) as unit,
        categorised.unit as source_unit,
        categorised.dispatched_at,
        categorised.signed_at,
        categorised.deadline_at,
        categorised.extended_deadline_at,
        categorised.closed_at,
        {{ rating_word('categorised.rating_score', 'categorised.rating') }} as rating,
        categorised.reopened,
        categorised.urge_count,
        categorised.handed_to

    from categorised
    left join links using (channel, source_id)
    left join survivors on survivors.case_id = links.case_id
    left join taxonomy on taxonomy.category_l2_code = categorised.category_l2_code
    left join aliases on aliases.alias = categorised.unit

)

select * from final
