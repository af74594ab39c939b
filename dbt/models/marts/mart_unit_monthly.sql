with

facts as (

    select * from {{ ref('int_case_metric_fact') }}
    where unit is not null

),

overdue as (

    select * from {{ ref('int_case_overdue_monthly') }}
    where unit is not null

),

counted as (

    select
        month,
        unit,
        {{ metric_counts() }}

    from facts
    group by month, unit

),

overdue_counted as (

    select month, unit, count(*) as overdue_cases
    from overdue
    group by month, unit

),

combined as (

    select
        coalesce(counted.month, overdue_counted.month) as month,
        coalesce(counted.unit, overdue_counted.unit) as unit,
        {% for column in metric_count_columns() -%}
        coalesce(counted.{{ column }}, 0) as {{ column }},
        {% endfor -%}
        coalesce(overdue_counted.overdue_cases, 0) as overdue_cases

    from counted
    full outer join overdue_counted using (month, unit)

),

rated as (

    select
        *,
        {{ metric_rates() }}

    from combined

),

scored as (

    select
        *,
        {{ composite_score() }} as composite_score

    from rated

),

final as (

    select
        *,
        case when composite_score is not null
             then rank() over (partition by month order by composite_score desc nulls last) end as rank

    from scored

)

select * from final
