-- Feed labels no mapping covers (they fell into 9999 未归类): a warning listing them, so the mapping seed can be
-- extended; the intakes are kept, never dropped.
{{ config(severity='warn') }}

select channel, source_category, count(*) as intakes
from {{ ref('fct_intake') }}
where is_unmapped_category
group by channel, source_category
