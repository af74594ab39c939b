-- One row per case ever created (merged ones with status merged): place, category and handling.
with

lifecycle as (

    select * from {{ ref('int_case_lifecycle') }}

),

-- a merged case keeps the category of the intake that led it (now a plain intake of its survivor, so the
-- lifecycle has no lead for it): looked up for the merged cases only, which are few
merged_case_leads as (

    select cases.case_id, cases.lead_channel, cases.lead_source_id
    from {{ ref('stg_core__case') }} as cases
    join {{ ref('int_merged_case') }} as merged_cases using (case_id)

),

-- read twice below: not materialized, so DuckDB scans the table (only the columns used) instead of copying it
intakes as not materialized (

    select * from {{ ref('fct_intake') }}

),

-- the lead first, then by time: one bigint sort key (cheaper than comparing (not is_lead, received_at) structs)
keyed as (

    select
        *,
        epoch_us(received_at) + case when is_lead then 0 else cast(1 as bigint) << 62 end as lead_first_key

    from intakes

),

per_case as (

    select
        case_id,
        min(received_at) as first_received_at,
        max(received_at) as last_received_at,
        count(*) as intake_count,
        {{ distinct_channel_count('channel') }} as channel_count,
        -- place: the lead's when it has one, else the earliest intake that names it
        arg_min(street_code, lead_first_key) filter (where street_code is not null) as street_code,
        arg_min(community_code, lead_first_key) filter (where community_code is not null) as community_code,
        arg_min(lon, lead_first_key) filter (where lon is not null and lat is not null) as lon,
        arg_min(lat, lead_first_key) filter (where lon is not null and lat is not null) as lat

    from keyed
    group by case_id

),

final as (

    select
        lifecycle.case_id,
        lifecycle.lead_channel,
        lifecycle.lead_source_id,
        coalesce(per_case.first_received_at, lifecycle.created_at) as first_received_at,
        per_case.last_received_at,
        coalesce(per_case.intake_count, 0) as intake_count,
        coalesce(per_case.channel_count, 0) as channel_count,
        coalesce(lifecycle.category_l1, merged_lead.category_l1) as category_l1,
        coalesce(lifecycle.category_l2, merged_lead.category_l2) as category_l2,
        coalesce(lifecycle.category_l2_code, merged_lead.category_l2_code) as category_l2_code,
        coalesce(lifecycle.demand_type, merged_lead.demand_type) as demand_type,
        coalesce(lifecycle.urgency, merged_lead.urgency) as urgency,
        per_case.street_code,
        per_case.community_code,
        per_case.lon,
        per_case.lat,
        lifecycle.unit,
        lifecycle.dispatched_at,
        lifecycle.signed_at,
        lifecycle.sign_due_at,
        lifecycle.deadline_at,
        lifecycle.time_limit_id,
        lifecycle.extended,
        lifecycle.first_closed_at,
        lifecycle.closed_at,
        case
            when lifecycle.is_merged then 'merged'
            when lifecycle.closed_at is not null then 'closed'
            when lifecycle.answered_at is not null and lifecycle.dispatched_at is null then 'answered'
            when lifecycle.signed_at is not null then 'signed'
            when lifecycle.dispatched_at is not null then 'dispatched'
            else 'received'
        end as status,
        case when lifecycle.closed_at is not null and lifecycle.deadline_at is not null
             then lifecycle.closed_at <= lifecycle.deadline_at end as closed_on_time,
        -- null when the case has no sign-for step (not dispatched, or led through a channel without 签收)
        case when lifecycle.sign_due_at is not null
             then coalesce(lifecycle.signed_at <= lifecycle.sign_due_at, false) end as signed_on_time,
        lifecycle.returned,
        lifecycle.urge_count,
        lifecycle.rating,
        lifecycle.last_callback_at,
        lifecycle.reopened,
        lifecycle.repeat_of_case_id,
        lifecycle.repeat_of_case_id is not null as is_repeat,
        lifecycle.is_merged,
        lifecycle.merged_into_case_id,
        lifecycle.surviving_case_id,
        lifecycle.created_at

    from lifecycle
    left join per_case on per_case.case_id = lifecycle.case_id and not lifecycle.is_merged
    left join merged_case_leads on merged_case_leads.case_id = lifecycle.case_id
    left join intakes as merged_lead
      on merged_lead.channel = merged_case_leads.lead_channel
     and merged_lead.source_id = merged_case_leads.lead_source_id

)

select * from final
