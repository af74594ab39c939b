-- One row per rated callback of a surviving case's lead intake (回访 with 满意/基本满意/不满意).
-- A feed that reports a rating without a callback event contributes one callback dated at closure.
with

intakes as (

    select * from {{ ref('int_intake_unified') }}
    where is_lead

),

events as (

    select * from {{ ref('int_intake_event') }}
    where event_type = 'callback'

),

lifecycle as (

    select * from {{ ref('int_case_lifecycle') }}
    where not is_merged

),

from_events as (

    select
        intakes.case_id,
        events.event_at as callback_at,
        {{ rating_word('null', 'events.note') }} as rating

    from events
    join intakes using (channel, source_id)

),

rated_events as (

    select * from from_events where rating is not null

),

from_feed as (

    select
        lifecycle.case_id,
        coalesce(lifecycle.last_callback_at, lifecycle.closed_at, lifecycle.first_closed_at) as callback_at,
        lifecycle.rating

    from lifecycle
    where lifecycle.rating is not null
      and not exists (select 1 from rated_events where rated_events.case_id = lifecycle.case_id)

),

unioned as (

    select * from rated_events
    union all
    select * from from_feed where callback_at is not null

)

select
    case_id,
    callback_at,
    rating,
    {{ is_satisfied('rating') }} as is_satisfied

from unioned
