"""The simulator's random number generator: `random.Random` (the same Mersenne Twister, seeded the same way) with
the integer and choice helpers taken from one `random()` draw.

The standard helpers draw integers by rejection from `getrandbits` through several Python-level calls; here an
integer below n is `int(random() * n)` (bias below 2**-40 for the small n the simulator uses). Profiling put the
standard helpers at ~10 % of the simulator's CPU time.
"""
from __future__ import annotations

import random


class FastRandom(random.Random):
    def _randbelow(self, n: int) -> int:  # used by randrange, sample, shuffle
        return int(self.random() * n)

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))
