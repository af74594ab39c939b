{{ config(materialized='view') }}
-- Lifecycle events with units under their canonical names (feeds spell units several ways). A view: its two
-- readers (the leads' lifecycle, fct_case_event) each read it once, and copying millions of events costs more.
with

events as (

    select * from {{ ref('stg_core__intake_event') }}

),

aliases as (

    select * from {{ ref('unit_aliases') }}

)

select
    events.channel,
    events.source_id,
    events.seq,
    events.event_at,
    events.event_type,
    coalesce(aliases.unit, events.unit) as unit,
    events.note

from events
left join aliases on aliases.alias = events.unit
