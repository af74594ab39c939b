{{ config(materialized='view') }}
-- The counting facts behind every monthly metric, one row per (case, fact, month), so that the unit mart and
-- the area mart count the same things. Only surviving cases count (merged duplicates never do), and a case's
-- handling is its lead intake's. Month attribution per fact (domain.md):
--   dispatched  month of dispatch      -> 办结率, 退单率 (denominator: cases dispatched in the month), and
--                                         及时签收率 (those with a sign-for step: sign_applies)
--   due         month of the deadline  -> 按时办结率 (应办结: deadline in the month, and closed or past due)
--   callback    month of the callback  -> 满意率 (callbacks with a rating)
--   closed      month of first closure -> 重办率 (cases closed in the month)
--   created     month of creation      -> 重复诉求率 (cases created in the month)
with

-- read by every fact below: not materialized, so DuckDB scans the table (only the columns used) instead of copying it
cases as not materialized (

    select * from {{ ref('fct_case') }}
    where status <> 'merged'

),

callbacks as (

    select * from {{ ref('int_case_callback') }}

),

as_of as (

    select * from {{ ref('int_as_of') }}

),

dispatched as (

    select
        {{ fact_attribution() }},
        {% if var('dispatch_denominator') == 'dispatched_in_month' %}date_trunc('month', dispatched_at){% else %}{{ exceptions.raise_compiler_error("unknown dispatch_denominator " ~ var('dispatch_denominator')) }}{% endif %} as month,
        'dispatched' as fact,
        coalesce(signed_on_time, false) as hit,
        signed_on_time is not null as sign_applies,
        closed_at is not null as closed,
        returned

    from cases
    where dispatched_at is not null

),

due as (

    select
        {{ fact_attribution('cases') }},
        {% if var('ontime_denominator') == 'due_in_month' -%}
        date_trunc('month', deadline_at)
        {%- elif var('ontime_denominator') == 'closed_in_month' -%}
        date_trunc('month', closed_at)
        {%- else -%}{{ exceptions.raise_compiler_error("unknown ontime_denominator " ~ var('ontime_denominator')) }}{%- endif %} as month,
        'due' as fact,
        coalesce(closed_on_time, false) as hit,
        false as sign_applies,
        closed_at is not null as closed,
        false as returned

    from cases
    cross join as_of
    where deadline_at is not null
      and dispatched_at is not null
      {% if var('ontime_denominator') == 'due_in_month' -%}
      and (closed_at is not null or deadline_at < as_of.as_of)
      {%- else -%}
      and closed_at is not null
      {%- endif %}

),

rated as (

    select
        {{ fact_attribution('cases') }},
        date_trunc('month', callbacks.callback_at) as month,
        'callback' as fact,
        callbacks.is_satisfied as hit,
        false as sign_applies,
        false as closed,
        false as returned

    from callbacks
    join cases using (case_id)

),

closed as (

    select
        {{ fact_attribution() }},
        {% if var('reopen_denominator') == 'first_closed_in_month' %}date_trunc('month', first_closed_at){% else %}{{ exceptions.raise_compiler_error("unknown reopen_denominator " ~ var('reopen_denominator')) }}{% endif %} as month,
        'closed' as fact,
        reopened as hit,
        false as sign_applies,
        true as closed,
        false as returned

    from cases
    where first_closed_at is not null

),

created as (

    select
        {{ fact_attribution() }},
        date_trunc('month', first_received_at) as month,
        'created' as fact,
        is_repeat as hit,
        false as sign_applies,
        false as closed,
        false as returned

    from cases

),

facts as (

    select * from dispatched
    union all by name select * from due
    union all by name select * from rated
    union all by name select * from closed
    union all by name select * from created

)

select
    cast(month as date) as month,
    fact,
    case_id,
    unit,
    street_code,
    community_code,
    category_l2,
    hit,
    sign_applies,
    closed,
    returned

from facts
