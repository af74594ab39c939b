"""Where a new incident may go: never onto a problem of the same kind that is still open or was reported recently.

domain.md: practitioners call two reports one problem when they are at the same place (within 50-100 m, or the
same building or 小区) at a compatible time. So the truth must not hold two *different* incidents of one kind at one
place within that time: nothing in their reports could tell them apart. The rule the generator keeps, and the
tests check on the truth:

    two incidents A, B of the same kind, B not a repeat of A, A first reported at or before B, conflict
    when B is first reported before ``block_until(A)`` (A's closure, or A's first report + the kind's report-gap
    window, whichever is later) and they are within ``PLACE_RADIUS_M`` or share a named place (the estate, or the
    crossing a crossing-style address names: ``geography.crossing_place_key``).

A repeat after closure is the same problem again (a new incident with ``repeat_of``): it may follow the incident it
repeats at its place. Two repeats of one incident may not overlap (each would be the same open problem): an
incident gets at most one repeat.
"""
from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime, timedelta

from simulator.catalog import GAP_PROFILES, Kind
from simulator.geography import M_PER_DEG_LAT, M_PER_DEG_LON, crossing_place_key

PLACE_RADIUS_M = 250.0
_CELL_LON = PLACE_RADIUS_M / M_PER_DEG_LON
_CELL_LAT = PLACE_RADIUS_M / M_PER_DEG_LAT
_R2 = PLACE_RADIUS_M * PLACE_RADIUS_M


def report_gap_window(kind: Kind) -> timedelta:
    """How long after its first report an incident of this kind still draws reports (the kind's longest gap)."""
    return _GAP_WINDOWS[kind.gap]


_GAP_WINDOWS = {gap: timedelta(minutes=profile["max_gap_min"]) for gap, profile in GAP_PROFILES.items()}


def block_until(kind: Kind, first_received: datetime, closed_at: datetime | None) -> datetime:
    end = first_received + report_gap_window(kind)
    return closed_at if closed_at is not None and closed_at > end else end


class Occupancy:
    """The places taken per kind: a 250 m grid of points and the named places, each with the time until which it
    stays taken and the repeat chain it belongs to."""

    def __init__(self) -> None:
        self.cells: dict[tuple, list] = defaultdict(list)  # (kind, cx, cy) -> [(lon, lat, until, chain)]
        self.names: dict[tuple, list] = defaultdict(list)  # (kind, name) -> [(until, chain)]
        # per kind: estate -> the latest time it stays taken (any chain), and the day's list of free estates:
        # a new incident draws among the free estates instead of re-drawing taken ones (at a year's density
        # most estates are taken for most kinds)
        self.estate_until: dict[str, dict[str, datetime]] = defaultdict(dict)
        self._free: dict[str, tuple[datetime, list]] = {}

    @staticmethod
    def _cell(lon: float, lat: float) -> tuple[int, int]:
        return math.floor(lon / _CELL_LON), math.floor(lat / _CELL_LAT)

    def is_free(self, kind_code: str, lon: float, lat: float, estate: str, not_before: datetime,
                chain: str | None = None) -> bool:
        """No incident of this kind (outside `chain`) at this place stays taken at or after `not_before` — the
        start of the day the new incident is first reported (a petition is registered at 00:00), so incidents
        first reported later that day, or repeats already planned for later days, also count as taken."""
        return self.taken_until(kind_code, lon, lat, estate, not_before, chain) is None

    def taken_until(self, kind_code: str, lon: float, lat: float, estate: str, not_before: datetime,
                    chain: str | None = None) -> datetime | None:
        """When the place stops being taken as far as the first conflicting incident goes (see `is_free`); None
        when the place is free."""
        names = self.names
        for until, other in names.get((kind_code, estate), ()):
            if until >= not_before and other != chain:
                return until
        cx = math.floor(lon / _CELL_LON)
        cy = math.floor(lat / _CELL_LAT)
        cells = self.cells
        for dx in (-1, 0, 1):
            x = cx + dx
            for dy in (-1, 0, 1):
                entries = cells.get((kind_code, x, cy + dy))
                if entries:
                    for olon, olat, until, other in entries:
                        if until >= not_before and other != chain:
                            ex = (lon - olon) * M_PER_DEG_LON
                            ey = (lat - olat) * M_PER_DEG_LAT
                            if ex * ex + ey * ey <= _R2:
                                return until
        for until, other in names.get((kind_code, crossing_place_key(lon, lat)), ()):
            if until >= not_before and other != chain:
                return until
        return None

    def name_is_free(self, kind_code: str, name: str, not_before: datetime, chain: str | None = None) -> bool:
        for until, other in self.names.get((kind_code, name), ()):
            if until >= not_before and other != chain:
                return False
        return True

    def free_estates(self, kind_code: str, estates: list[tuple], not_before: datetime) -> list[tuple]:
        """The entries of `estates` ((estate name, ...) tuples) whose estate no incident of this kind holds at or
        after `not_before`, as of the first call for that time. The list is the caller's to shrink: an estate
        taken later the same day is still listed (`name_is_free` tells)."""
        cached = self._free.get(kind_code)
        if cached is None or cached[0] != not_before:
            taken = self.estate_until[kind_code]
            cached = self._free[kind_code] = (not_before, [e for e in estates
                                                           if e[0] not in taken or taken[e[0]] < not_before])
        return cached[1]

    def keep_off(self, kind_code: str, estate: str, until: datetime) -> None:
        """Leave `estate` off the kind's free estates until `until`: a point drawn there fell near another
        incident of the kind (at a neighbouring estate or crossing), and points there would keep failing while
        that incident holds its place. Only the draw's candidates shrink; the rule's checks are unchanged."""
        held = self.estate_until[kind_code]
        if held.get(estate, until) <= until:
            held[estate] = until

    def take(self, kind_code: str, lon: float, lat: float, estate: str, until: datetime, chain: str) -> None:
        self.names[(kind_code, estate)].append((until, chain))
        self.keep_off(kind_code, estate, until)
        self.names[(kind_code, crossing_place_key(lon, lat))].append((until, chain))
        cx, cy = self._cell(lon, lat)
        self.cells[(kind_code, cx, cy)].append((lon, lat, until, chain))

    def release_before(self, t: datetime) -> None:
        """Forget places freed before `t` (no later incident can start before it)."""
        for table, pos in ((self.cells, 2), (self.names, 0)):
            for key in list(table):
                kept = [e for e in table[key] if e[pos] >= t]
                if kept:
                    table[key] = kept
                else:
                    del table[key]
        for kind_code in list(self.estate_until):
            held = {estate: until for estate, until in self.estate_until[kind_code].items() if until >= t}
            if held:
                self.estate_until[kind_code] = held
            else:
                del self.estate_until[kind_code]


def rule_violations(incidents: list[dict]) -> list[tuple[str, str, str]]:
    """Pairs of truth incidents (``truth/incidents.parquet`` rows) that break the rule above:
    (earlier incident_id, later incident_id, 'near' or 'same estate' or 'same crossing')."""
    from simulator.catalog import KINDS  # the kinds by code

    kinds = {k.code: k for k in KINDS}
    parent = {r["incident_id"]: r["repeat_of_incident_id"] for r in incidents}

    def ancestors(incident_id: str) -> set[str]:
        """The incidents it repeats, directly or through other repeats."""
        found = set()
        while parent.get(incident_id):
            incident_id = parent[incident_id]
            found.add(incident_id)
        return found

    by_kind: dict[str, list[dict]] = defaultdict(list)
    for r in incidents:
        by_kind[r["kind_code"]].append(r)
    found = []
    for code, rows in by_kind.items():
        rows.sort(key=lambda r: (r["first_received_at"], r["incident_id"]))
        taken = [(r, block_until(kinds[code], r["first_received_at"], r["closed_at"]), ancestors(r["incident_id"]),
                  crossing_place_key(r["lon"], r["lat"])) for r in rows]
        for i, (a, until, _, crossing_a) in enumerate(taken):
            for b, _, repeated_by_b, crossing_b in taken[i + 1:]:
                if b["first_received_at"] > until:
                    break  # sorted by first report: every later one is after `until` too
                if a["incident_id"] in repeated_by_b:
                    continue  # a repeat follows the incident it repeats at its place (two repeats of one do not)
                ex = (a["lon"] - b["lon"]) * M_PER_DEG_LON
                ey = (a["lat"] - b["lat"]) * M_PER_DEG_LAT
                why = ("near" if ex * ex + ey * ey <= _R2 else "same estate" if a["estate"] == b["estate"]
                       else "same crossing" if crossing_a == crossing_b else None)
                if why:
                    found.append((a["incident_id"], b["incident_id"], why))
    return found
