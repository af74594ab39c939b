-- Petitions (信访, weekly XLSX): one-level 内容分类 (the petition system's own classes, often only a major
-- class such as 城乡建设), the group size (人数), the clerk's repeat flag (是否重复信访), the petitioner's 评价
-- (满意/不满意 only; 未评价 is null), and from `extra` the form (信访形式) and purpose (信访目的, from which the
-- connector derived demand_type). Dates only: 登记日期, 办理期限 and 办结日期 carry no time of day.
with

source as (

    select * from {{ source('core', 'intake') }}
    where channel = 'petition'

),

renamed as (

    select
        {{ stg_intake_shared_columns() }},
        source.source_category as content_class,
        source.people_count,
        coalesce(source.people_count, 1) > 1 as is_group_visit,
        coalesce(source.marked_repeat, false) as marked_repeat,
        {{ rating_word('null', 'source.rating') }} as rating,
        source.source_status as petition_status,
        {{ extra_field('信访形式') }} as petition_form,
        {{ extra_field('信访目的') }} as petition_purpose

    from source

)

select * from renamed
