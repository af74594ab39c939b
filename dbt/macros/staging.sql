{#-
  The canonical columns (connectors/schema.py) every channel's staging model shares, cleaned the same way (one
  place for the rules): trimmed codes, the street derived from the community or area code when the feed left it
  empty, 一般 urgency by default, a unit name trimmed to null, no urge count = 0. The rating is not here: each
  feed has its own vocabulary, normalised in its stg_<channel>__intake with what else is its own.
-#}
{% macro stg_intake_shared_columns(relation='source') -%}
        {{ relation }}.channel,
        {{ relation }}.source_id,
        {{ relation }}.version_at,
        {{ relation }}.received_at,
        {{ relation }}.caller_key,
        {{ relation }}.title,
        {{ relation }}.content,
        {{ relation }}.address,
        nullif(trim({{ relation }}.area_code), '') as area_code,
        -- a known community fixes the street even when the feed left the street empty
        coalesce(nullif({{ relation }}.street_code, ''), left(nullif({{ relation }}.community_code, ''), 9),
                 case when length(trim({{ relation }}.area_code)) >= 9 then left(trim({{ relation }}.area_code), 9) end)
            as street_code,
        coalesce(nullif({{ relation }}.community_code, ''),
                 case when length(trim({{ relation }}.area_code)) = 12 then trim({{ relation }}.area_code) end)
            as community_code,
        cast({{ relation }}.lon as double) as lon,
        cast({{ relation }}.lat as double) as lat,
        nullif(trim({{ relation }}.source_category), '') as source_category,
        coalesce({{ relation }}.urgency, '一般') as urgency,
        nullif(trim({{ relation }}.unit), '') as unit,
        {{ relation }}.dispatched_at,
        {{ relation }}.signed_at,
        {{ relation }}.deadline_at,
        {{ relation }}.extended_deadline_at,
        {{ relation }}.closed_at,
        {{ relation }}.source_status,
        {{ relation }}.demand_type,
        coalesce({{ relation }}.urge_count, 0) as urge_count,
        coalesce({{ relation }}.reopened, false) as reopened,
        {{ relation }}.handed_to,
        {{ relation }}.load_id
{%- endmacro %}

{#- A key of the JSON `extra` column (what a feed sent beyond the canonical schema); null when absent or unreadable. -#}
{% macro extra_field(key, relation='source') -%}
    case when json_valid({{ relation }}.extra) then json_extract_string({{ relation }}.extra, '$."{{ key }}"') end
{%- endmacro %}
