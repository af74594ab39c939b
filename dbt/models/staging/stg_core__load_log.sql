with

source as (

    select * from {{ source('core', 'load_log') }}

),

renamed as (

    select
        load_id,
        channel,
        delivery,
        checksum,
        rows_in,
        rows_loaded,
        rows_quarantined,
        loaded_at

    from source

)

select * from renamed
