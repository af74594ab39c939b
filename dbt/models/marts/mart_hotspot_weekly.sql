-- Hotspots: a place (community, or the street when the community is unknown) and category whose case count in a
-- week is well above its own recent baseline (mean weekly count over the preceding weeks, zero weeks included).
with

cases as (

    select * from {{ ref('fct_case') }}
    where status <> 'merged' and street_code is not null

),

weekly as (

    select
        cast(date_trunc('week', first_received_at) as date) as week_start,  -- ISO weeks start on Monday
        street_code,
        community_code,
        category_l2,
        count(*) as cases

    from cases
    group by all

),

first_week as (

    select min(week_start) as first_week_start from weekly

),

with_baseline as (

    select
        current_week.week_start,
        current_week.street_code,
        current_week.community_code,
        current_week.category_l2,
        current_week.cases,
        -- weeks of history the data has before this week, at most the configured baseline window
        least({{ var('hotspot_baseline_weeks') }},
              datediff('week', first_week.first_week_start, current_week.week_start)) as baseline_weeks,
        coalesce(sum(past_week.cases), 0) as baseline_cases

    from weekly as current_week
    cross join first_week
    left join weekly as past_week
      on past_week.street_code = current_week.street_code
     and past_week.community_code is not distinct from current_week.community_code
     and past_week.category_l2 is not distinct from current_week.category_l2
     and past_week.week_start < current_week.week_start
     and past_week.week_start >= current_week.week_start - interval ({{ var('hotspot_baseline_weeks') }} * 7) day
    group by all

),

scored as (

    select
        week_start,
        street_code,
        community_code,
        category_l2,
        cases,
        baseline_weeks,
        case when baseline_weeks > 0 then cast(baseline_cases as double) / baseline_weeks end as baseline,
        case when baseline_weeks > 0
             then cases / greatest(cast(baseline_cases as double) / baseline_weeks,
                                   {{ var('hotspot_baseline_floor') }}) end as lift

    from with_baseline

),

final as (

    select
        *,
        coalesce(cases >= {{ var('hotspot_min_cases') }} and lift >= {{ var('hotspot_min_lift') }}, false)
            as is_hotspot,
        rank() over (partition by week_start order by lift desc nulls last, cases desc) as rank

    from scored

)

select * from final
