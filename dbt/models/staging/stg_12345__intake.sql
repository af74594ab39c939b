-- 12345 work orders (HTTP API): three category levels fl1/fl2/fl3, the 回访满意度 word, the call-taker's manual
-- link (glgdbh), and two fields the connector keeps in `extra`: the street name as typed (jd) and 是否保密 (sfbm).
with

source as (

    select * from {{ source('core', 'intake') }}
    where channel = '12345'

),

renamed as (

    select
        {{ stg_intake_shared_columns() }},
        -- the hotline's own three-level category; fl3 (and often fl2) is empty on many orders
        nullif(split_part(source.source_category, '/', 1), '') as category_level_1,
        nullif(split_part(source.source_category, '/', 2), '') as category_level_2,
        nullif(split_part(source.source_category, '/', 3), '') as category_level_3,
        -- hfmyd: 满意/基本满意/不满意 words (null while no callback, or the citizen was unreachable)
        {{ rating_word('null', 'source.rating') }} as rating,
        source.source_status as work_order_status,
        source.linked_source_id as manual_link_source_id,
        {{ extra_field('jd') }} as reported_street_name,
        {{ extra_field('sfbm') }} = '1' as is_confidential

    from source

)

select * from renamed
