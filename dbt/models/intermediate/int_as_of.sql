-- The moment "now" for past-due and overdue decisions: the as_of setting, else the latest time in the data.
with

latest as (

    select max(t) as latest_at
    from (
        select max(received_at) as t from {{ ref('fct_intake') }}
        union all
        select max(event_at) from {{ ref('stg_core__intake_event') }}
    )

)

select
    {% if var('as_of') %}cast('{{ var("as_of") }}' as timestamp){% else %}latest_at{% endif %} as as_of

from latest
