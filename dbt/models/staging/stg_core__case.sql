with

source as (

    select * from {{ source('core', 'case') }}

),

renamed as (

    select
        case_id,
        lead_channel,
        lead_source_id,
        repeat_of_case_id,
        merged_into_case_id,
        created_at

    from source

)

select * from renamed
