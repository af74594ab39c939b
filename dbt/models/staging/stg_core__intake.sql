with

source as (

    select * from {{ source('core', 'intake') }}

),

renamed as (

    select
        channel,
        source_id,
        version_at,
        received_at,
        caller_key,
        demand_type,
        title,
        content,
        address,
        nullif(trim(area_code), '') as area_code,
        -- a known community fixes the street even when the feed left the street empty
        coalesce(nullif(street_code, ''), left(nullif(community_code, ''), 9),
                 case when length(trim(area_code)) >= 9 then left(trim(area_code), 9) end) as street_code,
        coalesce(nullif(community_code, ''),
                 case when length(trim(area_code)) = 12 then trim(area_code) end) as community_code,
        cast(lon as double) as lon,
        cast(lat as double) as lat,
        nullif(trim(source_category), '') as source_category,
        coalesce(urgency, '一般') as urgency,
        nullif(trim(unit), '') as unit,
        dispatched_at,
        signed_at,
        deadline_at,
        extended_deadline_at,
        closed_at,
        source_status,
        rating,
        rating_score,
        coalesce(urge_count, 0) as urge_count,
        coalesce(reopened, false) as reopened,
        linked_source_id,
        coalesce(marked_repeat, false) as marked_repeat,
        handed_to,
        people_count,
        load_id

    from source

)

select * from renamed
