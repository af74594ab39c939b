with

events as (

    select * from {{ ref('int_intake_event') }}

),

intakes as (

    select * from {{ ref('fct_intake') }}

),

merges as (

    select * from {{ ref('stg_core__case_merge') }}

),

cases as (

    select * from {{ ref('stg_core__case') }}

),

merged_cases as (

    select * from {{ ref('int_merged_case') }}

),

intake_events as (

    select
        intakes.case_id,
        events.event_at,
        events.event_type,
        events.unit,
        events.channel,
        events.source_id,
        events.seq,
        intakes.is_lead as from_lead_intake,
        events.note

    from events
    join intakes using (channel, source_id)

),

-- 并单: a case merged into an older one, recorded on the survivor, as coming from the merged case's lead
merge_events as (

    select
        coalesce(merged_into.surviving_case_id, merges.into_case_id) as case_id,
        merges.merged_at as event_at,
        'merged' as event_type,
        cast(null as varchar) as unit,
        cases.lead_channel as channel,
        cases.lead_source_id as source_id,
        cast(null as integer) as seq,
        false as from_lead_intake,
        'merged case ' || merges.merged_case_id as note

    from merges
    join cases on cases.case_id = merges.merged_case_id
    -- the case it was merged into may itself have been merged since
    left join merged_cases as merged_into on merged_into.case_id = merges.into_case_id

),

final as (

    select * from intake_events
    union all
    select * from merge_events

)

select * from final
