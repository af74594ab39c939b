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
        weekly.week_start,
        weekly.street_code,
        weekly.community_code,
        weekly.category_l2,
        weekly.cases,
        -- weeks of history the data has before this week, at most the configured baseline window
        least({{ var('hotspot_baseline_weeks') }},
              datediff('week', first_week.first_week_start, weekly.week_start)) as baseline_weeks,
        -- cases of the same place and category in the preceding weeks (a window over the weekly counts, not a
        -- self-join; partitions treat a null community or category as one value, like `is not distinct from`)
        coalesce(sum(weekly.cases) over (
            partition by weekly.street_code, weekly.community_code, weekly.category_l2
            order by weekly.week_start
            range between interval ({{ var('hotspot_baseline_weeks') }} * 7) day preceding
                      and interval 1 day preceding
        ), 0) as baseline_cases

    from weekly
    cross join first_week

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
