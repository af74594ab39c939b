-- Working-day calendar with a running count of working days, for working-day arithmetic.
with

calendar as (

    select * from {{ ref('work_calendar') }}

),

numbered as (

    select
        cast(day as date) as day,
        cast(is_workday as boolean) as is_workday,
        nullif(holiday_name, '') as holiday_name,
        source,
        -- working days up to and including this day: the n-th working day after d has seq(d) + n
        cast(sum(case when cast(is_workday as boolean) then 1 else 0 end) over (order by day) as integer)
            as workday_seq

    from calendar

)

select * from numbered
