"""Session 10: with workers, the file phase writes each day while the strands still run; a failing strand stops
the run with its own error (the file phase waits for its shards, and must not wait forever)."""
from __future__ import annotations

from datetime import date

import pytest

import simulator.generator as G
from simulator import SimulationConfig, simulate
from simulator_testkit import file_digests


def test_a_strand_that_fails_stops_the_run_with_its_error(tmp_path, monkeypatch):
    generate_day = G.Strand._root_incident

    def failing_on_day_3(self, day):
        if self.strand == 2 and day == date(2024, 3, 3):
            raise ValueError("strand 2 broke on 2024-03-03")
        return generate_day(self, day)

    # the strand workers are forked: they inherit the patched method
    monkeypatch.setattr(G.Strand, "_root_incident", failing_on_day_3)
    with pytest.raises(ValueError, match="strand 2 broke"):
        simulate(SimulationConfig(start=date(2024, 3, 1), days=5, per_day=200, seed=7), tmp_path / "landing",
                 tmp_path / "truth", workers=2)
    # the days every strand had finished were written; none after the failure; the shards are gone
    assert (tmp_path / "landing" / "12345" / "work_orders_20240302.jsonl").exists()
    assert not (tmp_path / "landing" / "12345" / "work_orders_20240303.jsonl").exists()
    assert not list((tmp_path / "truth").glob(".shards-*"))


def test_the_file_phase_waits_for_every_strands_shard_of_a_day(tmp_path, monkeypatch):
    """The day's files are written only once all strands' shards of the day exist: with the last strand slowed
    down, the output is still the same bytes as a run with one worker."""
    import time

    write_shard = G.Strand._write_shard

    def slow_last_strand(self, day):
        if self.strand == G.STRANDS - 1:
            time.sleep(0.2)
        return write_shard(self, day)

    config = SimulationConfig(start=date(2024, 3, 1), days=4, per_day=150, seed=9)
    simulate(config, tmp_path / "one" / "landing", tmp_path / "one" / "truth", workers=1)
    monkeypatch.setattr(G.Strand, "_write_shard", slow_last_strand)
    simulate(config, tmp_path / "two" / "landing", tmp_path / "two" / "truth", workers=2)

    one, two = file_digests(tmp_path / "one"), file_digests(tmp_path / "two")
    assert one and one == two
