{#-
  Working-day arithmetic is done by joining int_work_calendar (built from chinese_calendar): the n-th working day
  after day d is the working day whose workday_seq is seq(d) + n, and the result keeps the start's time of day
  (dispatched Friday 10:00 + 1 working day is Monday 10:00; Saturday 10:00 + 1 is also Monday 10:00). Outside the
  calendar's range the join finds nothing and the result is null.
-#}
{% macro at_time_of(day, ts) -%}
    ({{ day }} + ({{ ts }} - date_trunc('day', {{ ts }})))
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
