"""Feed simulator: the four upstream systems of 包河区's intake platform, and the truth behind them."""
from pathlib import Path

from gongzhi.compiled import discard_stale

discard_stale(Path(__file__).parent)  # before any module of the package loads: never run a stale compiled one

from simulator.generator import SimulationConfig, SimulationSummary, simulate  # noqa: E402

__all__ = ["SimulationConfig", "SimulationSummary", "simulate"]
