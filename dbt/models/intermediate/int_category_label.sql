-- Each distinct (channel, feed label) with its unified minor class: the lookup is done once per label, not once
-- per intake. A label 'a/b/c' (12345's fl1/fl2/fl3) is looked up whole, then as 'a/b', then 'a', then by its last
-- level 'c'; the other feeds' one-level labels are looked up whole. A label in no mapping has no class here and
-- falls into 9999 未归类 in int_intake_unified.
with

labels as (

    {% for channel_model in ['stg_12345__intake', 'stg_110__intake', 'stg_petition__intake', 'stg_hotline__intake'] -%}
    select distinct channel, source_category from {{ ref(channel_model) }} where source_category is not null
    {% if not loop.last %}union
    {% endif %}
    {%- endfor %}

),

mapping as (

    select * from {{ ref('category_mapping') }}

),

levels as (

    select
        channel,
        source_category,
        array_to_string(string_split(source_category, '/')[1:2], '/') as source_label_2,
        split_part(source_category, '/', 1) as source_label_1,
        string_split(source_category, '/')[-1] as source_label_last

    from labels

),

looked_up as (

    select
        levels.channel,
        levels.source_category,
        coalesce(m3.category_l2_code, m2.category_l2_code, m1.category_l2_code, ml.category_l2_code)
            as category_l2_code,
        coalesce(nullif(m3.demand_type, ''), nullif(m2.demand_type, ''), nullif(m1.demand_type, ''),
                 nullif(ml.demand_type, '')) as default_demand_type

    from levels
    left join mapping as m3 on m3.channel = levels.channel and m3.source_label = levels.source_category
    left join mapping as m2 on m2.channel = levels.channel and m2.source_label = levels.source_label_2
    left join mapping as m1 on m1.channel = levels.channel and m1.source_label = levels.source_label_1
    left join mapping as ml on ml.channel = levels.channel and ml.source_label = levels.source_label_last

)

select
    channel,
    source_category,
    category_l2_code,
    default_demand_type,
    category_l2_code is null as is_unmapped_category

from looked_up
