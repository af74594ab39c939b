{{ config(materialized='view') }}
-- One row per case ever created: the category and handling facts of its lead intake, the handling derived from
-- the lead's lifecycle events (the feed's own columns fill in where a feed carries no event for a fact). The lead's events are read
-- from fct_case_event, where events already carry their case and whether they come from its lead intake.
-- A view: fct_case is its one reader and stores the result (with place and category), so it is written once.
with

intakes as (

    select * from {{ ref('fct_intake') }}

),

events as (

    select * from {{ ref('fct_case_event') }}
    where from_lead_intake

),

cases as (

    select * from {{ ref('stg_core__case') }}

),

merged_cases as (

    select * from {{ ref('int_merged_case') }}

),

limits as (

    select * from {{ ref('int_time_limit_matched') }}

),

-- a platform (110's 12345平台) is handed the matter, it does not handle it: no unit, not dispatched
platforms as (

    select unit from {{ ref('units') }} where unit_type = 'platform'

),

leads as (

    select * from intakes where is_lead

),

lead_events as (

    select
        events.channel,
        events.source_id,
        min(case when event_type = 'dispatched' then event_at end) as first_dispatched_at,
        arg_max(unit, event_at) filter (where event_type in ('dispatched', 'redispatched') and unit is not null)
            as last_dispatched_unit,
        min(case when event_type = 'signed' then event_at end) as first_signed_at,
        min(case when event_type = 'closed' then event_at end) as first_closed_at,
        max(case when event_type = 'closed' then event_at end) as last_closed_at,
        max(case when event_type = 'reopened' then event_at end) as last_reopened_at,
        min(case when event_type = 'answered_directly' then event_at end) as answered_at,
        count(*) filter (where event_type = 'returned') as return_count,
        count(*) filter (where event_type = 'urged') as urge_count,
        count(*) filter (where event_type = 'reopened') as reopen_count,
        count(*) filter (where event_type = 'extension_approved') as extension_count,
        arg_max(note, event_at) filter (where event_type = 'callback' and note in ('满意', '基本满意', '不满意'))
            as last_callback_note,
        max(case when event_type = 'callback' and note in ('满意', '基本满意', '不满意') then event_at end)
            as last_callback_at

    from events
    -- only the event types read above (received, extension requests and rejections say nothing here)
    where event_type in ('dispatched', 'redispatched', 'signed', 'closed', 'reopened', 'answered_directly',
                         'returned', 'urged', 'extension_approved', 'callback')
    group by events.channel, events.source_id

),

handling as (

    select
        leads.case_id as surviving_case_id,
        leads.channel,
        leads.source_id,
        leads.category_l1,
        leads.category_l2,
        leads.category_l2_code,
        leads.demand_type,
        leads.urgency,
        case when platforms.unit is null then coalesce(lead_events.last_dispatched_unit, leads.unit) end as unit,
        case when platforms.unit is null then coalesce(
            lead_events.first_dispatched_at,
            leads.dispatched_at,
            case when leads.unit is not null
                  and leads.channel in ({{ "'" ~ var('assigned_on_receipt_channels') | join("', '") ~ "'" }})
                 then leads.received_at end
        ) end as dispatched_at,
        coalesce(lead_events.first_signed_at, leads.signed_at) as signed_at,
        coalesce(lead_events.first_closed_at, leads.closed_at) as first_closed_at,
        coalesce(lead_events.last_closed_at, leads.closed_at) as last_closed_at,
        lead_events.last_reopened_at,
        lead_events.answered_at,
        coalesce(lead_events.return_count, 0) > 0 as returned,
        coalesce(lead_events.extension_count, 0) > 0 or leads.extended_deadline_at is not null as extended,
        greatest(coalesce(lead_events.urge_count, 0), leads.urge_count) as urge_count,
        coalesce(lead_events.reopen_count, 0) > 0 or leads.reopened as reopened,
        -- the rating of the current round of handling: a reopening clears the earlier callback's rating (as the
        -- feeds do); a feed without callback events (hotline, petition) reports its rating as a column
        case
            when lead_events.last_callback_at is not null
                 and (lead_events.last_reopened_at is null
                      or lead_events.last_callback_at > lead_events.last_reopened_at)
                then {{ rating_word('null', 'lead_events.last_callback_note') }}
            when lead_events.last_callback_at is null and lead_events.last_reopened_at is null
                then leads.rating
        end as rating,
        lead_events.last_callback_at,
        leads.deadline_at as feed_deadline_at,
        leads.extended_deadline_at,
        limits.limit_id,
        limits.limit_value,
        limits.limit_unit

    from leads
    left join lead_events using (channel, source_id)
    left join limits using (channel, source_id)
    left join platforms on platforms.unit = coalesce(lead_events.last_dispatched_unit, leads.unit)

),

-- working-day arithmetic by joins on the calendar (a correlated lookup per row is far slower at scale):
-- the n-th working day after day d is the working day whose workday_seq is seq(d) + n
calendar as (

    select * from {{ ref('int_work_calendar') }}

),

workdays as (

    select workday_seq, day from calendar where is_workday

),

with_deadline as (

    select
        handling.*,
        -- a feed's deadline is used when it has one; an approved extension replaces it; otherwise the
        -- category's time limit counts from dispatch
        coalesce(
            handling.extended_deadline_at,
            handling.feed_deadline_at,
            case handling.limit_unit
                when 'working_days' then {{ at_time_of('limit_day.day', 'handling.dispatched_at') }}
                when 'calendar_days' then handling.dispatched_at + to_days(cast(handling.limit_value as integer))
                when 'hours' then handling.dispatched_at + to_hours(cast(handling.limit_value as integer))
            end
        ) as deadline_at,
        case when handling.channel in ({{ "'" ~ var('sign_for_channels') | join("', '") ~ "'" }})
             then {{ at_time_of('sign_day.day', 'handling.dispatched_at') }} end as sign_due_at

    from handling
    left join calendar as dispatch_day on dispatch_day.day = cast(handling.dispatched_at as date)
    left join workdays as sign_day
      on sign_day.workday_seq = dispatch_day.workday_seq + {{ var('sign_limit_working_days') }}
    left join workdays as limit_day
      on handling.limit_unit = 'working_days'
     and limit_day.workday_seq = dispatch_day.workday_seq + handling.limit_value

),

final as (

    select
        cases.case_id,
        merged_cases.surviving_case_id,
        merged_cases.case_id is not null as is_merged,
        cases.merged_into_case_id,
        cases.repeat_of_case_id,
        cases.created_at,
        coalesce(with_deadline.channel, cases.lead_channel) as lead_channel,
        coalesce(with_deadline.source_id, cases.lead_source_id) as lead_source_id,
        with_deadline.category_l1,
        with_deadline.category_l2,
        with_deadline.category_l2_code,
        with_deadline.demand_type,
        with_deadline.urgency,
        with_deadline.unit,
        with_deadline.dispatched_at,
        with_deadline.signed_at,
        with_deadline.sign_due_at,
        with_deadline.deadline_at,
        with_deadline.limit_id as time_limit_id,
        with_deadline.extended,
        with_deadline.first_closed_at,
        -- closed now: closed, and not reopened after the last closure
        case when with_deadline.last_closed_at is not null
              and (with_deadline.last_reopened_at is null
                   or with_deadline.last_reopened_at <= with_deadline.last_closed_at)
             then with_deadline.last_closed_at end as closed_at,
        with_deadline.answered_at,
        with_deadline.returned,
        with_deadline.urge_count,
        with_deadline.reopened,
        with_deadline.rating,
        with_deadline.last_callback_at

    from cases
    left join merged_cases using (case_id)
    -- a merged case keeps no handling of its own: it lives on in its survivor
    left join with_deadline
      on with_deadline.surviving_case_id = cases.case_id and merged_cases.case_id is null

)

select * from final
