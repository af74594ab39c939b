{#-
  The monthly metric columns (counts and rates of domain.md's table), aggregated from int_case_metric_fact
  rows in scope `facts` and the overdue count from `overdue`. One definition for the unit and area marts.
-#}
{% macro metric_counts() -%}
        count(*) filter (where fact = 'dispatched') as dispatched_cases,
        count(*) filter (where fact = 'dispatched' and sign_applies) as sign_due_cases,
        count(*) filter (where fact = 'dispatched' and sign_applies and hit) as signed_on_time_cases,
        count(*) filter (where fact = 'due') as due_cases,
        count(*) filter (where fact = 'due' and hit) as closed_on_time_cases,
        count(*) filter (where fact = 'dispatched' and closed) as dispatched_closed_cases,
        count(*) filter (where fact = 'callback') as rated_callbacks,
        count(*) filter (where fact = 'callback' and hit) as satisfied_callbacks,
        count(*) filter (where fact = 'closed') as closed_cases,
        count(*) filter (where fact = 'closed' and hit) as reopened_cases,
        count(*) filter (where fact = 'dispatched' and returned) as returned_cases,
        count(*) filter (where fact = 'created') as created_cases,
        count(*) filter (where fact = 'created' and hit) as repeat_cases
{%- endmacro %}

{#- The names metric_counts() produces, for models that carry them through joins. -#}
{% macro metric_count_columns() -%}
    {{ return(['dispatched_cases', 'sign_due_cases', 'signed_on_time_cases', 'due_cases', 'closed_on_time_cases',
               'dispatched_closed_cases', 'rated_callbacks', 'satisfied_callbacks', 'closed_cases',
               'reopened_cases', 'returned_cases', 'created_cases', 'repeat_cases']) }}
{%- endmacro %}

{% macro metric_rates() -%}
        {{ ratio('signed_on_time_cases', 'sign_due_cases') }} as sign_on_time_rate,
        {{ ratio('closed_on_time_cases', 'due_cases') }} as closed_on_time_rate,
        {{ ratio('dispatched_closed_cases', 'dispatched_cases') }} as closure_rate,
        {{ ratio('satisfied_callbacks', 'rated_callbacks') }} as satisfaction_rate,
        {{ ratio('reopened_cases', 'closed_cases') }} as reopen_rate,
        {{ ratio('returned_cases', 'dispatched_cases') }} as return_rate,
        {{ ratio('repeat_cases', 'created_cases') }} as repeat_rate
{%- endmacro %}

{#- Composite score: weighted mean of the three rates, weights renormalised over the rates that exist. -#}
{% macro composite_score() -%}
        (coalesce(sign_on_time_rate * {{ var('weight_sign') }}, 0)
         + coalesce(closed_on_time_rate * {{ var('weight_ontime') }}, 0)
         + coalesce(satisfaction_rate * {{ var('weight_satisfaction') }}, 0))
        / nullif(
            case when sign_on_time_rate is not null then {{ var('weight_sign') }} else 0 end
            + case when closed_on_time_rate is not null then {{ var('weight_ontime') }} else 0 end
            + case when satisfaction_rate is not null then {{ var('weight_satisfaction') }} else 0 end,
          0)
{%- endmacro %}

{#- Normalised satisfaction word: a 1-5 score is mapped with the settings, else the feed's word. -#}
{% macro rating_word(score, word) -%}
    case
        when {{ score }} >= {{ var('rating_satisfied_min') }} then '满意'
        when {{ score }} >= {{ var('rating_basic_satisfied_min') }} then '基本满意'
        when {{ score }} is not null then '不满意'
        when {{ word }} in ('满意', '基本满意', '不满意') then {{ word }}
    end
{%- endmacro %}

{#- Whether a rating word counts as satisfied under the settings. -#}
{% macro is_satisfied(word) -%}
    ({{ word }} = '满意' {% if var('basic_satisfied_counts') %} or {{ word }} = '基本满意'{% endif %})
{%- endmacro %}

{#- Safe ratio: null when the denominator is zero. -#}
{% macro ratio(numerator, denominator) -%}
    case when ({{ denominator }}) > 0 then cast({{ numerator }} as double) / ({{ denominator }}) end
{%- endmacro %}

{#- The case and where it is counted (unit, place, category), selected in every fact below. -#}
{% macro fact_attribution(relation=none) -%}
{%- set prefix = relation ~ '.' if relation else '' -%}
        {{ prefix }}case_id, {{ prefix }}unit, {{ prefix }}street_code, {{ prefix }}community_code, {{ prefix }}category_l2
{%- endmacro %}

{#- Number of distinct channels in a group: one bit per channel of var('channels'), or-ed and counted (a
    count(distinct) costs a hash table per group). The source test on core.intake.channel admits only those. -#}
{% macro distinct_channel_count(column) -%}
    cast(bit_count(bit_or(case {{ column }}
        {%- for channel in var('channels') %} when '{{ channel }}' then 1 << {{ loop.index0 }}{% endfor %} end)) as bigint)
{%- endmacro %}
