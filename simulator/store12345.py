"""The records of the 12345 work-order store: one place that turns an order's fixed head and its events into the
API records of its versions. The simulator's plain store writes every version rendered here; its order store
(``--compact-12345``) writes each order once, as an *order line*, and ``server12345`` renders the versions from
it on request — with this same function, so both stores serve the same bytes.

An order line is the order's head as the API record starts it (``{"gdbh": …, "slsj": …, … "jjcd": …``) followed
by its event plan::

    {"gdbh": "…", "slsj": "…", … "jjcd": "…", "@t": [t0, t1, …], "@e": [[action, unit, note, deadline], …],
     "@bad": [[k, "slsj"|"pdsj", text], …], "@g": "glgdbh"}

``@t`` holds each version's ``gxsj`` as whole seconds since 1970-01-01 00:00 CST (the server indexes the versions
from it without rendering), ``@e`` the event behind each version (``deadline``: the new ``blsx`` of a dispatch, as
seconds, else 0), ``@bad`` the superseded versions broken on purpose, ``@g`` the order's ``glgdbh``.
"""
from __future__ import annotations

import orjson

from simulator.handling import RATINGS, STATUS_AFTER, seconds_text

ORDER_MARK = "@t"  # the key that makes a store line an order line
ORDER_TAIL = b', "@t": ['  # where an order line's head ends (a JSON string cannot hold a bare '"')
_SLSJ = '"slsj": "'


def render_versions(head: str, glgdbh: str, events: list[tuple], bad: dict[int, tuple[str, str]] | None = None,
                    only: int | None = None) -> list[str]:
    """The API records (as JSON text, json.dumps spacing) of an order's versions: all, or just version `only`.

    ``head``: the record's fixed start ``{"gdbh": …, "jjcd": "…"``; ``glgdbh``: the order it is linked to (or "");
    ``events``: ``(gxsj seconds, action, unit,
    note, new deadline seconds of a dispatch else 0)``, one per version; ``bad``: version → (``"slsj"`` or
    ``"pdsj"``, the unparseable text that version shows instead)."""
    unit = ""
    dispatched = False
    pdsj_text = qssj_text = blsx_text = yqsx_text = bjsj_text = hfmyd_text = "null"
    reopened = 0
    urges = 0
    lc: list[str] = []
    out: list[str] = []
    last = len(events) - 1 if only is None else only
    text_of = seconds_text
    for pos, (gx, action, actor, note, deadline) in enumerate(events):
        gxsj = text_of(gx)
        if action == "派单" or action == "改派":
            if not dispatched:
                dispatched, pdsj_text = True, f'"{gxsj}"'
            unit, qssj_text = actor, "null"
            blsx_text = f'"{text_of(deadline)}"'
        elif action == "签收":
            qssj_text = f'"{gxsj}"'
        elif action == "延期批准":
            yqsx_text = f'"{note}"'
        elif action == "催办":
            urges += 1
        elif action == "办结" or action == "直接答复":
            bjsj_text = f'"{gxsj}"'
        elif action == "回访":
            hfmyd_text = f'"{note}"' if note in RATINGS else "null"
        elif action == "重办":
            reopened, bjsj_text, hfmyd_text = 1, "null", "null"
        if action != "归档":  # action words, unit names, notes and times hold no character JSON must escape
            lc.append(f'{{"dz": "{action}", "sj": "{gxsj}", "dw": "{actor}", "yj": "{note}"}}')
        if only is not None and pos < only:
            continue  # the state so far is all a later version needs
        pdsj, line_head = pdsj_text, head
        broken = bad.get(pos) if bad else None
        if broken is not None:
            if broken[0] == "slsj":
                start = head.index(_SLSJ) + len(_SLSJ)
                line_head = head[:start] + broken[1] + head[head.index('"', start):]
            else:
                pdsj = f'"{broken[1]}"'
        out.append(f'{line_head}, "cbdw": "{unit}", "pdsj": {pdsj}, "qssj": {qssj_text}, "blsx": {blsx_text}, '
                   f'"yqsx": {yqsx_text}, "bjsj": {bjsj_text}, "gdzt": "{STATUS_AFTER[action]}", '
                   f'"hfmyd": {hfmyd_text}, "cbcs": {urges}, "cbbz": {reopened}, "glgdbh": "{glgdbh}", '
                   f'"gxsj": "{gxsj}", "lc": [{", ".join(lc)}]}}')
        if pos == last:
            break
    return out


def order_line(head: str, glgdbh: str, events: list[tuple], bad: dict[int, tuple[str, str]] | None) -> bytes:
    """An order line of the order store (the module docstring's shape), UTF-8."""
    times = orjson.dumps([e[0] for e in events])
    plan = orjson.dumps([e[1:] for e in events])
    broken = orjson.dumps([[k, *v] for k, v in sorted(bad.items())]) if bad else b"[]"
    return b"".join((head.encode("utf-8"), b', "@t": ', times, b', "@e": ', plan, b', "@bad": ', broken, b', "@g": "', glgdbh.encode("utf-8"), b'"}'))


def version_of_order_line(line: bytes, k: int) -> bytes:
    """The API record of version k of an order line, as the plain store holds it."""
    cut = line.find(ORDER_TAIL)
    head = line[:cut].decode("utf-8")
    tail = orjson.loads(b"{" + line[cut + 2:])
    events = [(t, *e) for t, e in zip(tail["@t"], tail["@e"])]
    bad = {k: (field, text) for k, field, text in tail["@bad"]}
    return render_versions(head, tail["@g"], events, bad, only=k)[0].encode("utf-8")
