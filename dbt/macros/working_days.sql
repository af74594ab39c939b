{#-
  Working-day arithmetic on the calendar model int_work_calendar (built from chinese_calendar).
  The n-th working day after a timestamp keeps its time of day: dispatched Friday 10:00 + 1 working day is
  Monday 10:00 (Saturday 10:00 + 1 is also Monday 10:00). Outside the calendar's range the result is null.
-#}
{% macro add_working_days(ts, n) -%}
    (
        (select c_target.day
           from {{ ref('int_work_calendar') }} as c_target
          where c_target.is_workday
            and c_target.workday_seq = (
                select c_start.workday_seq from {{ ref('int_work_calendar') }} as c_start
                 where c_start.day = cast({{ ts }} as date)
            ) + ({{ n }}))
        + ({{ ts }} - date_trunc('day', {{ ts }}))
    )
{%- endmacro %}

{#- A deadline from a time limit: working days, calendar days or hours after a start time. -#}
{% macro deadline_from_limit(start_ts, limit_value, limit_unit) -%}
    case {{ limit_unit }}
        when 'working_days' then {{ add_working_days(start_ts, limit_value) }}
        when 'calendar_days' then {{ start_ts }} + to_days(cast({{ limit_value }} as integer))
        when 'hours' then {{ start_ts }} + to_hours(cast({{ limit_value }} as integer))
    end
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
