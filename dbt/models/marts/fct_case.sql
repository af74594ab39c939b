with

cases as (

    select * from {{ ref('int_case') }}

)

select * from cases
