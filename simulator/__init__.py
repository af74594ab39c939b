"""Feed simulator: the four upstream systems of 包河区's intake platform, and the truth behind them."""
from simulator.generator import SimulationConfig, SimulationSummary, simulate

__all__ = ["SimulationConfig", "SimulationSummary", "simulate"]
