-- 超期件: for each month, the surviving dispatched cases still open at the end of the period and past their
-- deadline. The period ends at the month's end, or at as_of for the current month. A case closed and later
-- reopened counts as closed from its first closure (its reopening is counted by 重办率).
with

-- read twice below: not materialized, so DuckDB scans the table (only the columns used) instead of copying it
cases as not materialized (

    select * from {{ ref('fct_case') }}
    where status <> 'merged' and dispatched_at is not null and deadline_at is not null

),

as_of as (

    select * from {{ ref('int_as_of') }}

),

months as (

    select cast(unnest(generate_series(
        (select date_trunc('month', min(dispatched_at)) from cases),
        date_trunc('month', as_of.as_of),
        interval 1 month
    )) as date) as month
    from as_of

),

periods as (

    select
        months.month,
        least(months.month + interval 1 month, as_of.as_of) as period_end

    from months
    cross join as_of

)

select
    periods.month,
    cases.case_id,
    cases.unit,
    cases.street_code,
    cases.community_code,
    cases.category_l2

from periods
join cases
  on cases.dispatched_at < periods.period_end
 and cases.deadline_at < periods.period_end
 and (coalesce(cases.first_closed_at, cases.closed_at) is null
      or coalesce(cases.first_closed_at, cases.closed_at) >= periods.period_end)
