-- Other hotlines' tickets (12315, 12319, 12369, 12320; daily JSON Lines): the hotline is the prefix of source_id
-- (<hotline>:<ticket_id>), the category is the ticket's category name (or code when it has no name), and the
-- rating is a 1-5 score, mapped to 满意/基本满意/不满意 here with the rating_* settings (dbt_project.yml).
with

source as (

    select * from {{ source('core', 'intake') }}
    where channel = 'hotline'

),

renamed as (

    select
        {{ stg_intake_shared_columns() }},
        split_part(source.source_id, ':', 1) as hotline_code,
        substr(source.source_id, length(split_part(source.source_id, ':', 1)) + 2) as ticket_id,
        source.rating_score,
        {{ rating_word('source.rating_score', 'source.rating') }} as rating,
        source.source_status as ticket_status

    from source

)

select * from renamed
