with

source as (

    select * from {{ source('core', 'case_merge') }}

),

renamed as (

    select
        merged_case_id,
        into_case_id,
        merged_at,
        reason

    from source

)

select * from renamed
