-- 110 non-police transfers (daily CSV): one-level 警情类别, the transfer (转办去向, a department or 12345平台),
-- and what the connector keeps in `extra`: the police station (管辖单位) and the feedback time (反馈时间).
-- 110 has no demand type, no deadline and no rating of its own: the category mapping gives the demand type,
-- the time limits the deadline.
with

source as (

    select * from {{ source('core', 'intake') }}
    where channel = '110'

),

renamed as (

    select
        {{ stg_intake_shared_columns() }},
        source.source_category as alarm_category,
        -- a transfer to the 12345 platform re-appears as a 12345 work order: the platform does not handle it
        source.handed_to = '12345平台' as handed_to_12345,
        {{ rating_word('null', 'source.rating') }} as rating,
        source.source_status as transfer_status,
        {{ extra_field('管辖单位') }} as police_station,
        -- written like 接警时间 (2024/3/5 14:23:05)
        try_strptime({{ extra_field('反馈时间') }}, '%Y/%m/%d %H:%M:%S') as feedback_at

    from source

)

select * from renamed
