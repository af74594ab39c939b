"""Coordinate systems in use in China, brought to WGS-84.

GCJ-02 ("Mars coordinates", required on published Chinese maps) is WGS-84 with a published non-linear
offset of a few hundred metres; BD-09 (Baidu) is a further transform of GCJ-02. The forward formulas are the
widely published ones (as in eviltransform / coordtransform). Their inverses have no closed form: the
iterative inverse used here converges to well under a millimetre, where the usual one-step inverse is off by
metres.

Every function returns ``(None, None)`` for unknown points: null, non-numeric, NaN, ``0`` (feeds write 0 for
"unknown") and points outside China (where GCJ-02 is not defined and a feed's point is certainly wrong).
"""
from __future__ import annotations

import math

import numpy as np

CRS_NAMES = ("wgs84", "gcj02", "bd09")

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323  # its eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0
# GCJ-02 is defined only inside this box (the published bounds).
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)
_INVERSE_TOLERANCE_DEG = 1e-10  # ~0.01 mm
_INVERSE_MAX_ITERATIONS = 30

Point = tuple[float | None, float | None]
_UNKNOWN: Point = (None, None)


def _valid_point(lon: object, lat: object) -> tuple[float, float] | None:
    """Floats inside China, or None for anything that is not a usable point."""
    try:
        x, y = float(lon), float(lat)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(x) and math.isfinite(y)) or x == 0 or y == 0:
        return None
    if not (_CHINA_LON[0] <= x <= _CHINA_LON[1] and _CHINA_LAT[0] <= y <= _CHINA_LAT[1]):
        return None
    return x, y


def _transform_lat(x: float, y: float) -> float:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _transform_lon(x: float, y: float) -> float:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def _gcj_offset(lon: float, lat: float) -> tuple[float, float]:
    d_lat = _transform_lat(lon - 105.0, lat - 35.0)
    d_lon = _transform_lon(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return d_lon, d_lat


def _wgs_to_gcj(lon: float, lat: float) -> tuple[float, float]:
    d_lon, d_lat = _gcj_offset(lon, lat)
    return lon + d_lon, lat + d_lat


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """The published GCJ-02 -> BD-09 step, on valid floats (no checks: the simulator calls it per point)."""
    z = math.hypot(lon, lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def _bd_to_gcj_approx(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon - 0.0065, lat - 0.006
    z = math.hypot(x, y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.cos(theta), z * math.sin(theta)


def _invert(forward, target_lon: float, target_lat: float, guess: tuple[float, float]) -> tuple[float, float]:
    """Solve forward(p) == target by fixed-point iteration: the transforms are near-translations locally."""
    lon, lat = guess
    for _ in range(_INVERSE_MAX_ITERATIONS):
        f_lon, f_lat = forward(lon, lat)
        d_lon, d_lat = target_lon - f_lon, target_lat - f_lat
        lon, lat = lon + d_lon, lat + d_lat
        if abs(d_lon) < _INVERSE_TOLERANCE_DEG and abs(d_lat) < _INVERSE_TOLERANCE_DEG:
            break
    return lon, lat


def wgs84_to_gcj02(lon: object, lat: object) -> Point:
    p = _valid_point(lon, lat)
    return _UNKNOWN if p is None else _wgs_to_gcj(*p)


def gcj02_to_wgs84(lon: object, lat: object) -> Point:
    p = _valid_point(lon, lat)
    if p is None:
        return _UNKNOWN
    d_lon, d_lat = _gcj_offset(*p)
    return _invert(_wgs_to_gcj, p[0], p[1], (p[0] - d_lon, p[1] - d_lat))


def wgs84_to_bd09(lon: object, lat: object) -> Point:
    p = _valid_point(lon, lat)
    return _UNKNOWN if p is None else gcj02_to_bd09(*_wgs_to_gcj(*p))


def bd09_to_wgs84(lon: object, lat: object) -> Point:
    p = _valid_point(lon, lat)
    if p is None:
        return _UNKNOWN
    gcj = _invert(gcj02_to_bd09, p[0], p[1], _bd_to_gcj_approx(*p))
    return gcj02_to_wgs84(*gcj)


def to_wgs84(lon: object, lat: object, crs: str | None) -> Point:
    """A point in ``crs`` (wgs84 / gcj02 / bd09, case and dashes ignored) as WGS-84.

    An unknown crs name raises ValueError: guessing would move points by hundreds of metres silently.
    """
    name = (crs or "").lower().replace("-", "").replace("_", "").strip()
    if name in ("wgs84", "epsg4326"):
        p = _valid_point(lon, lat)
        return _UNKNOWN if p is None else p
    if name == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if name == "bd09":
        return bd09_to_wgs84(lon, lat)
    raise ValueError(f"unknown coordinate system {crs!r}; expected one of {', '.join(CRS_NAMES)}")


# -- the same conversion on arrays (bulk loads) -----------------------------------------------------------------
# numpy versions of the formulas above, for whole columns at once. Unknown points (the cases where the scalar
# functions return (None, None)) come back as NaN. Each point is iterated exactly as the scalar inverse does (it
# stops when its own step is below the tolerance), so results agree with the scalar functions to rounding.

def _valid_mask(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (np.isfinite(x) & np.isfinite(y) & (x != 0) & (y != 0)
                & (x >= _CHINA_LON[0]) & (x <= _CHINA_LON[1]) & (y >= _CHINA_LAT[0]) & (y <= _CHINA_LAT[1]))


def _gcj_offset_arrays(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    pi = math.pi
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    d_lat += (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    d_lat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    d_lon += (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    d_lon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    d_lon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * pi
    magic = 1 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * pi)
    return d_lon, d_lat


def gcj02_to_wgs84_arrays(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``gcj02_to_wgs84`` for float64 arrays (NaN = unknown, in and out)."""
    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    out_lon, out_lat = np.full(lon.shape, np.nan), np.full(lat.shape, np.nan)
    valid = np.flatnonzero(_valid_mask(lon, lat))
    if valid.size == 0:
        return out_lon, out_lat
    t_lon, t_lat = lon[valid], lat[valid]
    d_lon, d_lat = _gcj_offset_arrays(t_lon, t_lat)
    g_lon, g_lat = t_lon - d_lon, t_lat - d_lat
    active = np.arange(valid.size)
    for _ in range(_INVERSE_MAX_ITERATIONS):
        a_lon, a_lat = g_lon[active], g_lat[active]
        o_lon, o_lat = _gcj_offset_arrays(a_lon, a_lat)
        step_lon = t_lon[active] - (a_lon + o_lon)
        step_lat = t_lat[active] - (a_lat + o_lat)
        g_lon[active], g_lat[active] = a_lon + step_lon, a_lat + step_lat
        active = active[~((np.abs(step_lon) < _INVERSE_TOLERANCE_DEG) & (np.abs(step_lat) < _INVERSE_TOLERANCE_DEG))]
        if active.size == 0:
            break
    out_lon[valid], out_lat[valid] = g_lon, g_lat
    return out_lon, out_lat
