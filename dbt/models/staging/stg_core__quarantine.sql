with

source as (

    select * from {{ source('core', 'quarantine') }}

),

renamed as (

    select
        channel,
        load_id,
        delivery,
        position,
        reason,
        quarantined_at,
        cast(quarantined_at as date) as quarantined_on

    from source

)

select * from renamed
