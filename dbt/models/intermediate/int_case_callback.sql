-- The rated callback (回访) of each surviving case: its lead intake's latest rating, dated at the latest callback
-- event (or at closure when the feed reports a rating without a callback event). One evaluation per case, as the
-- feeds carry it (12345 hfmyd, hotline rating, petition 评价 are single fields holding the latest rating).
with

cases as (

    select * from {{ ref('fct_case') }}
    where not is_merged and rating is not null

),

dated as (

    select
        case_id,
        coalesce(last_callback_at, closed_at, first_closed_at) as callback_at,
        rating

    from cases

)

select
    case_id,
    callback_at,
    rating,
    {{ is_satisfied('rating') }} as is_satisfied

from dated
where callback_at is not null
