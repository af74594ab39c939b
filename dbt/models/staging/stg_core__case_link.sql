with

source as (

    select * from {{ source('core', 'case_link') }}

),

renamed as (

    select
        channel,
        source_id,
        case_id,
        link_type,
        is_lead,
        cast(match_score as double) as match_score,
        matched_to_channel,
        matched_to_source_id

    from source

)

select * from renamed
