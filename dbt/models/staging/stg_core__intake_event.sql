with

source as (

    select * from {{ source('core', 'intake_event') }}

),

renamed as (

    select
        channel,
        source_id,
        seq,
        event_at,
        event_type,
        nullif(trim(unit), '') as unit,
        note

    from source

)

select * from renamed
