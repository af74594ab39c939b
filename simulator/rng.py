"""The simulator's random number generator: `random.Random` (the same Mersenne Twister, seeded the same way) with
the integer, choice and normal helpers made cheap.

The standard helpers draw integers by rejection from `getrandbits` through several Python-level calls; here an
integer below n is `int(random() * n)` (bias below 2**-40 for the small n the simulator uses). Profiling put the
standard helpers at ~10 % of the simulator's CPU time. Normal deviates come from a buffer that numpy refills in
bulk (seeded from this generator's own stream, so the sequence is still fixed by the seed): `random.gauss` is
a dozen Python lines per draw.
"""
from __future__ import annotations

import random

import numpy as np

NORMAL_BATCH = 4096  # normal deviates drawn per refill


class FastRandom(random.Random):
    def seed(self, *args, **kwargs) -> None:
        super().seed(*args, **kwargs)
        self._normals: list[float] = []

    def _randbelow(self, n: int) -> int:  # used by randrange, sample, shuffle
        return int(self.random() * n)

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def gauss(self, mu: float = 0.0, sigma: float = 1.0) -> float:
        normals = self._normals
        if not normals:
            normals.extend(np.random.default_rng(self.getrandbits(64)).standard_normal(NORMAL_BATCH).tolist())
        return mu + sigma * normals.pop()
