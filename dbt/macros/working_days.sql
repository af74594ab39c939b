{#-
  Working-day arithmetic is done by joining int_work_calendar (built from chinese_calendar): the n-th working day
  after day d is the working day whose workday_seq is seq(d) + n, and the result keeps the start's time of day
  (dispatched Friday 10:00 + 1 working day is Monday 10:00; Saturday 10:00 + 1 is also Monday 10:00). Outside the
  calendar's range the join finds nothing and the result is null.
-#}
{% macro at_time_of(day, ts) -%}
    ({{ day }} + ({{ ts }} - date_trunc('day', {{ ts }})))
{%- endmacro %}
