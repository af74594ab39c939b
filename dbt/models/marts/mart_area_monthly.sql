with

facts as (

    select * from {{ ref('int_case_metric_fact') }}

),

overdue as (

    select * from {{ ref('int_case_overdue_monthly') }}

),

intakes as (

    select * from {{ ref('fct_intake') }}

),

cases as (

    select * from {{ ref('fct_case') }}

),

divisions as (

    select * from {{ ref('divisions') }}

),

-- intakes counted at their case's place, so that every report of one problem lands in one area
intake_facts as (

    select
        cast(date_trunc('month', intakes.received_at) as date) as month,
        cases.street_code,
        cases.community_code,
        1 as intakes,
        case when intakes.link_type <> 'lead' then 1 else 0 end as repeat_intakes

    from intakes
    join cases on cases.case_id = intakes.case_id

),

counted as (

    select
        month,
        street_code,
        community_code,
        grouping(community_code) = 1 as is_street_total,
        {{ metric_counts() }}

    from facts
    group by grouping sets ((month, street_code, community_code), (month, street_code))

),

intakes_counted as (

    select
        month,
        street_code,
        community_code,
        grouping(community_code) = 1 as is_street_total,
        cast(sum(intakes) as bigint) as intakes,
        cast(sum(repeat_intakes) as bigint) as repeat_intakes

    from intake_facts
    group by grouping sets ((month, street_code, community_code), (month, street_code))

),

overdue_counted as (

    select
        month,
        street_code,
        community_code,
        grouping(community_code) = 1 as is_street_total,
        count(*) as overdue_cases

    from overdue
    group by grouping sets ((month, street_code, community_code), (month, street_code))

),

combined as (

    select
        coalesce(c.month, i.month, o.month) as month,
        coalesce(c.street_code, i.street_code, o.street_code) as street_code,
        coalesce(c.community_code, i.community_code, o.community_code) as community_code,
        coalesce(c.is_street_total, i.is_street_total, o.is_street_total) as is_street_total,
        coalesce(i.intakes, 0) as intakes,
        coalesce(i.repeat_intakes, 0) as repeat_intakes,
        {% for column in metric_count_columns() -%}
        coalesce(c.{{ column }}, 0) as {{ column }},
        {% endfor -%}
        coalesce(o.overdue_cases, 0) as overdue_cases

    from counted as c
    full outer join intakes_counted as i
      on i.month = c.month
     and i.street_code is not distinct from c.street_code
     and i.community_code is not distinct from c.community_code
     and i.is_street_total = c.is_street_total
    full outer join overdue_counted as o
      on o.month = coalesce(c.month, i.month)
     and o.street_code is not distinct from coalesce(c.street_code, i.street_code)
     and o.community_code is not distinct from coalesce(c.community_code, i.community_code)
     and o.is_street_total = coalesce(c.is_street_total, i.is_street_total)

),

final as (

    select
        combined.month,
        combined.street_code,
        streets.name as street_name,
        combined.community_code,
        communities.name as community_name,
        combined.is_street_total,
        combined.intakes,
        combined.created_cases as cases,
        combined.repeat_intakes,
        combined.* exclude (month, street_code, community_code, is_street_total, intakes, repeat_intakes),
        {{ metric_rates() }}

    from combined
    left join divisions as streets on streets.code = combined.street_code
    left join divisions as communities on communities.code = combined.community_code

)

select * from final
