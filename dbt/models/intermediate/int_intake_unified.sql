{{ config(materialized='view') }}
-- One row per intake, all channels: the four channels' staging models unioned on the canonical columns, with the
-- surviving case, unified category, place and canonical unit. A view: fct_intake is where it is stored (once).
with

intakes as (

    select * from {{ ref('stg_12345__intake') }}
    union all by name
    select * from {{ ref('stg_110__intake') }}
    union all by name
    select * from {{ ref('stg_petition__intake') }}
    union all by name
    select * from {{ ref('stg_hotline__intake') }}

),

links as (

    select * from {{ ref('stg_core__case_link') }}

),

merged_cases as (

    select * from {{ ref('int_merged_case') }}

),

label_categories as (

    select * from {{ ref('int_category_label') }}

),

taxonomy as (

    select * from {{ ref('category_taxonomy') }}

),

fallback as (

    select category_l2_code from taxonomy where is_fallback

),

aliases as (

    select * from {{ ref('unit_aliases') }}

),

final as (

    select
        intakes.channel,
        intakes.source_id,
        intakes.received_at,
        cast(intakes.received_at as date) as received_on,
        coalesce(merged_cases.surviving_case_id, links.case_id) as case_id,
        links.case_id as linked_case_id,
        links.link_type,
        -- the lead of a case that was merged away is no longer a lead: the survivor keeps its own
        coalesce(links.is_lead and merged_cases.case_id is null, false) as is_lead,
        links.match_score,
        coalesce(intakes.demand_type, label_categories.default_demand_type) as demand_type,
        taxonomy.category_l1_code,
        taxonomy.category_l1,
        taxonomy.category_l2_code,
        taxonomy.category_l2,
        coalesce(label_categories.is_unmapped_category, true) as is_unmapped_category,
        intakes.source_category,
        intakes.urgency,
        intakes.street_code,
        intakes.community_code,
        intakes.lon,
        intakes.lat,
        intakes.address,
        intakes.caller_key,
        intakes.title,
        intakes.content,
        coalesce(aliases.unit, intakes.unit) as unit,
        intakes.unit as source_unit,
        intakes.dispatched_at,
        intakes.signed_at,
        intakes.deadline_at,
        intakes.extended_deadline_at,
        intakes.closed_at,
        intakes.rating,
        intakes.reopened,
        intakes.urge_count,
        intakes.handed_to

    from intakes
    left join links using (channel, source_id)
    left join merged_cases on merged_cases.case_id = links.case_id
    -- a label in no mapping (or no label at all) falls into the fallback class
    left join label_categories
      on label_categories.channel = intakes.channel
     and label_categories.source_category = intakes.source_category
    cross join fallback
    left join taxonomy
      on taxonomy.category_l2_code = coalesce(label_categories.category_l2_code, fallback.category_l2_code)
    left join aliases on aliases.alias = intakes.unit

)

select * from final
