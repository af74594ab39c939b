-- Every case that was merged into another, with the case it now lives on in: the end of its chain of merges
-- (a case merged into one that was later merged again ends at the last survivor). Only merged cases (few): every
-- other case survives itself, so readers take coalesce(surviving_case_id, case_id) after a left join, and no
-- model stores or joins a row per case just to say so.
with recursive

merges as (

    -- core.case_merge is the record of merges; core.case.merged_into_case_id repeats it
    select merged_case_id, into_case_id from {{ ref('stg_core__case_merge') }}
    union
    select case_id, merged_into_case_id from {{ ref('stg_core__case') }} where merged_into_case_id is not null

),

-- the chains start only at merged cases (few): every other case survives itself
chain(case_id, surviving_case_id, depth) as (

    select merged_case_id, into_case_id, 1 from merges
    union all
    select chain.case_id, merges.into_case_id, chain.depth + 1
    from chain
    join merges on merges.merged_case_id = chain.surviving_case_id
    where chain.depth < 50

),

merged as (

    select
        case_id,
        arg_max(surviving_case_id, depth) as surviving_case_id

    from chain
    group by case_id

)

select * from merged
