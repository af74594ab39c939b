"""How each intake is handled: the lifecycle events per channel, and the facts a feed shows at a cut-off time.

Events use the 12345 action words (受理, 派单, 签收, 退单, 改派, 延期申请, 延期批准, 延期驳回, 催办, 办结, 回访, 重办,
直接答复, plus 归档 for the archive status change). Other channels use the subset their feed can carry.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import chinese_calendar

from simulator.catalog import DEADLINE_WORKDAYS, HOTLINE_DUE_DAYS, PETITION_DAYS, UNITS, URGENT_HOURS

RATING_WEIGHTS = (("满意", 0.66), ("基本满意", 0.2), ("不满意", 0.14))
RATING_AFTER_REDO = (("满意", 0.55), ("基本满意", 0.25), ("不满意", 0.2))
SCORE_TO_RATING = {5: "满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "不满意"}
RATINGS = frozenset(SCORE_TO_RATING.values())  # a 12345 callback note that is a rating (else: 无法联系)


@lru_cache(maxsize=None)
def is_workday(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # the calendar package only knows 2004-2026
        return day.weekday() < 5


@lru_cache(maxsize=None)
def _add_workdays(day: date, n: int) -> date:
    left = n
    while left > 0:
        day += timedelta(days=1)
        if is_workday(day):
            left -= 1
    return day


def whole_seconds(t: datetime) -> datetime:
    """Feeds print times to the second: every simulated time is kept at whole seconds so truth equals feed."""
    us = t.microsecond
    return t - timedelta(0, 0, us) if us else t  # as t.replace(microsecond=0), without keyword parsing


def _pick(rnd: random.Random, weighted) -> str:
    r, acc = rnd.random(), 0.0
    for value, w in weighted:
        acc += w
        if r < acc:
            return value
    return weighted[-1][0]


def _lognormal_minutes(rnd: random.Random, median: float, sigma: float, cap: float) -> timedelta:
    return timedelta(minutes=min(cap, median * math.exp(rnd.gauss(0.0, sigma))))


# ---- 12345 lifecycles on an integer clock: seconds since 1970-01-01 00:00 CST (naive), so the many event times
# of an order are plain int arithmetic and each is turned into text or a datetime only where a feed or the truth
# needs it.
CLOCK_EPOCH = datetime(1970, 1, 1)
_EPOCH_ORDINAL = CLOCK_EPOCH.toordinal()
DAY_S = 86400
OFFICE_OPENS_S = 8 * 3600 + 30 * 60  # units work 08:30-18:00
OFFICE_CLOSES_S = 18 * 3600
_DAY_TEXT: dict[int, str] = {}
_WORKDAYS_AHEAD: dict[tuple[int, int], int] = {}


def to_seconds(t: datetime) -> int:
    """Whole seconds of a naive CST time on the integer clock (microseconds dropped, as the feeds print them)."""
    return (t.toordinal() - _EPOCH_ORDINAL) * DAY_S + t.hour * 3600 + t.minute * 60 + t.second


def from_seconds(s: int) -> datetime:
    # the naive clock counts from 1970-01-01 00:00 as a POSIX timestamp does from that instant in UTC:
    # utcfromtimestamp is the same datetime as CLOCK_EPOCH + timedelta(seconds=s), a quarter of the CPU
    return datetime.utcfromtimestamp(s)


def seconds_text(s: int) -> str:
    """`YYYY-MM-DD HH:MM:SS` of a time on the integer clock (day and time-of-day texts formatted once each)."""
    day, rest = divmod(s, DAY_S)
    day_text = _DAY_TEXT.get(day)
    if day_text is None:
        day_text = _DAY_TEXT[day] = date.fromordinal(day + _EPOCH_ORDINAL).isoformat() + " "
    return day_text + _TIME_OF_DAY_TEXT[rest]


_TIME_OF_DAY_TEXT = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]


def _workdays_ahead(day: int, n: int) -> int:
    """The day number n working days after `day` (day numbers on the integer clock)."""
    key = (day, n)
    found = _WORKDAYS_AHEAD.get(key)
    if found is None:
        found = _WORKDAYS_AHEAD[key] = _add_workdays(date.fromordinal(day + _EPOCH_ORDINAL), n).toordinal() - _EPOCH_ORDINAL
    return found


def add_workdays_s(t: float, n: int) -> float:
    day = int(t // DAY_S)
    return _workdays_ahead(day, n) * DAY_S + (t - day * DAY_S)


def _office_hours(t: float) -> float:
    """An action due outside office hours moves to the next opening (a few minutes after it)."""
    day = int(t // DAY_S)
    time_of_day = t - day * DAY_S
    if OFFICE_OPENS_S <= time_of_day < OFFICE_CLOSES_S:
        return t
    if time_of_day >= OFFICE_CLOSES_S:
        day += 1
    second = time_of_day % 60
    return day * DAY_S + OFFICE_OPENS_S + second + (int(second) % 50) * 60


def deadline_12345(dispatched: float, demand: str, urgency: str) -> float:
    hours = URGENT_HOURS.get(urgency)
    if hours is not None:
        return dispatched + hours * 3600
    return add_workdays_s(dispatched, DEADLINE_WORKDAYS.get(demand, 5))


def _lognormal_s(rnd: random.Random, median_min: float, sigma: float, cap_min: float) -> float:
    return 60.0 * min(cap_min, median_min * math.exp(rnd.gauss(0.0, sigma)))


Event = tuple  # (time, action, unit, note[, new deadline of 延期批准]); 12345 times: whole seconds, integer clock


def plan_12345(rnd: random.Random, received: int, demand: str, urgency: str, unit: str, fix_note: str,
               duplicate_of: str | None) -> list[Event]:
    """The work order's events from its reception (`received` on the integer clock), sorted by time."""
    ev: list[Event] = [(received, "受理", "12345热线", "")]
    # call-takers answer consultations directly, and merge some duplicates they recognise (naming the earlier
    # order only sometimes: most duplicates carry no hint of the order they repeat)
    direct = (demand == "咨询" and rnd.random() < 0.75) or (duplicate_of is not None and rnd.random() < 0.3)
    if direct:
        t = received + 60 * rnd.randint(2, 40)
        if duplicate_of and demand != "咨询":
            note = f"已并入工单{duplicate_of}处理" if rnd.random() < 0.5 else "已有相同诉求工单在办，已告知市民"
        else:
            note = "已解答市民咨询"
        ev.append((t, "直接答复", "12345热线", note))
        if rnd.random() < 0.3:
            ev.append((t + 3600 * rnd.randint(4, 48) + rnd.randint(0, 3599), "回访", "12345热线",
                       _pick(rnd, RATING_WEIGHTS)))
        return ev
    urgent = urgency in URGENT_HOURS
    t = received + _lognormal_s(rnd, 8 if urgent else 45, 0.8, 600)
    if not urgent:
        t = _office_hours(t)
    deadline = deadline_12345(t, demand, urgency)
    if rnd.random() < 0.07:  # sent to the wrong unit first, returned, redispatched
        wrong = rnd.choice(_OTHER_UNITS.get(unit, _ALL_UNITS))
        ev.append((int(t), "派单", wrong, "请按职责办理"))
        t += _lognormal_s(rnd, 300, 0.8, 3 * 1440)
        ev.append((int(t), "退单", wrong, "非我单位职责"))
        t += _lognormal_s(rnd, 90, 0.7, 1440)
        ev.append((int(t), "改派", unit, "请按职责办理"))
        deadline = deadline_12345(t, demand, urgency)
    else:
        ev.append((int(t), "派单", unit, "请立即处置" if urgent else "请按时办理"))
    dispatched = t
    if rnd.random() < 0.1:  # signed late
        t = dispatched + DAY_S * rnd.uniform(1.2, 4.0)
    else:
        t = dispatched + _lognormal_s(rnd, 15 if urgent else 90, 0.9, 20 * 60)
    ev.append((int(t), "签收", unit, ""))
    signed = t
    span = max(deadline - signed, 3600.0)
    effective = deadline
    if not urgent and rnd.random() < 0.08:
        t_req = signed + span * rnd.uniform(0.3, 0.8)
        ev.append((int(t_req), "延期申请", unit, "需协调多部门"))
        t_dec = t_req + 3600 * rnd.randint(2, 30)
        if rnd.random() < 0.75:
            effective = float(int(add_workdays_s(deadline, rnd.choice((5, 5, 10)))))
            ev.append((int(t_dec), "延期批准", "12345热线", seconds_text(int(effective)), int(effective)))
        else:
            ev.append((int(t_dec), "延期驳回", "12345热线", "理由不充分"))
    late = rnd.random() < 0.14
    close = (effective + 3600 * rnd.uniform(2, 24 * 12) if late
             else signed + span * rnd.uniform(0.05, 0.95) + (effective - deadline) * rnd.random())
    n_urge = (rnd.choice((1, 1, 2, 3)) if late else 0) + (1 if rnd.random() < 0.06 else 0)
    for _ in range(n_urge):
        ev.append((int(signed + (close - signed) * rnd.uniform(0.3, 0.95)), "催办", "12345热线", "请加快办理"))
    ev.append((int(close), "办结", unit, fix_note))
    _callbacks(rnd, ev, close, unit, fix_note)
    ev.sort(key=_event_time)
    return ev


def _event_time(e: Event):
    return e[0]


def _callbacks(rnd: random.Random, ev: list[Event], close: float, unit: str, fix_note: str) -> None:
    t = close + 3600 * rnd.uniform(2, 48)
    if rnd.random() < 0.1:
        ev.append((int(t), "回访", "12345热线", "无法联系"))
        return
    rating = _pick(rnd, RATING_WEIGHTS)
    ev.append((int(t), "回访", "12345热线", rating))
    if rating == "不满意" and rnd.random() < 0.45:
        t += 3600 * rnd.uniform(1, 24)
        ev.append((int(t), "重办", unit, "市民不满意，重新办理"))
        close2 = t + DAY_S * rnd.uniform(0.5, 7)
        ev.append((int(close2), "办结", unit, fix_note))
        ev.append((int(close2 + 3600 * rnd.uniform(2, 48)), "回访", "12345热线", _pick(rnd, RATING_AFTER_REDO)))
    elif rnd.random() < 0.25:
        ev.append((int(t + 3 * DAY_S + 60 * rnd.randint(0, 600)), "归档", "12345热线", ""))


_OTHER_UNITS = {u: [o for o in UNITS if o != u] for u in UNITS}
_ALL_UNITS = list(UNITS)  # a street office's order can go to any department first


STATUS_AFTER = {"受理": "待派单", "派单": "已派单", "签收": "已签收", "退单": "已退单", "改派": "已派单", "延期申请": "办理中",
                "延期批准": "办理中", "延期驳回": "办理中", "催办": "办理中", "办结": "已办结", "回访": "已回访",
                "重办": "办理中", "直接答复": "已办结", "归档": "已归档"}


@dataclass(slots=True)
class Facts:
    """What a feed shows of one intake's handling at a cut-off time (the truth columns of an incident)."""
    unit: str | None = None
    dispatched_at: datetime | None = None
    signed_at: datetime | None = None
    deadline_at: datetime | None = None
    extended_deadline_at: datetime | None = None
    closed_at: datetime | None = None
    rating: str | None = None
    rating_score: int | None = None
    reopened: bool = False
    returned: bool = False
    urge_count: int = 0
    answered_directly: bool = False
    status: str = ""


def plan_hotline(rnd: random.Random, received: datetime, demand: str, unit: str) -> tuple[list[tuple], datetime | None]:
    """Hotline ticket versions: (updated_at, status, closed_at, rating 1-5 or None); and the due time."""
    due = None if rnd.random() < 0.15 else received + timedelta(days=HOTLINE_DUE_DAYS.get(demand, 7))
    versions = [(received, "open", None, None)]
    t = received + _lognormal_minutes(rnd, 120, 1.0, 3 * 1440)
    versions.append((t, "in_progress", None, None))
    if rnd.random() < 0.04:
        versions.append((t + timedelta(hours=rnd.uniform(1, 48)), "cancelled", None, None))
        return [(whole_seconds(v[0]),) + v[1:] for v in versions], due
    span = (due - received) if due else timedelta(days=7)
    close = received + span * (rnd.uniform(0.1, 0.95) if rnd.random() < 0.85 else rnd.uniform(1.05, 2.0))
    close = max(close, t + timedelta(minutes=30))
    close = whole_seconds(close)
    versions.append((close, "closed", close, None))
    if rnd.random() < 0.7:
        score = rnd.choices((5, 4, 3, 2, 1), (0.5, 0.2, 0.12, 0.1, 0.08))[0]
        versions.append((close + timedelta(hours=rnd.uniform(3, 40)), "closed", close, score))
    return [(whole_seconds(v[0]),) + v[1:] for v in versions], due


def plan_petition(rnd: random.Random, registered: date) -> list[tuple]:
    """Petition versions: (change date, 办理状态, 办结日期 or None, 评价)."""
    if rnd.random() < 0.05:
        return [(registered, "待受理", None, "未评价"), (registered + timedelta(days=rnd.randint(1, 5)), "不予受理", None, "未评价")]
    accepted = registered + timedelta(days=rnd.randint(1, 4))
    working = accepted + timedelta(days=rnd.randint(2, 10))
    closed = registered + timedelta(days=rnd.randint(12, PETITION_DAYS) if rnd.random() < 0.85 else rnd.randint(61, 90))
    rating = rnd.choices(("满意", "不满意", "未评价"), (0.5, 0.25, 0.25))[0]
    return [(registered, "待受理", None, "未评价"), (accepted, "已受理", None, "未评价"), (working, "办理中", None, "未评价"),
            (closed, "已办结", closed, rating)]
