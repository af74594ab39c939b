"""WeightedChoice must pick exactly what random.choices picks from the same stream: the simulator's output
(same seed -> same bytes) depends on it."""
import random

from simulator.generator import HOURLY, WeightedChoice, _weighted
from simulator.catalog import DEMAND_PROFILES


def test_weighted_choice_picks_what_random_choices_picks():
    for population, weights in ((range(24), HOURLY), (("a", "b", "c"), (0.5, 0.2, 0.3)), ((1, 2), (0.0, 1.0))):
        fast, reference = random.Random(7), random.Random(7)
        choice = WeightedChoice(population, weights)
        picks = [choice.pick(fast) for _ in range(2000)]
        assert picks == [reference.choices(population, weights)[0] for _ in range(2000)]
        assert fast.random() == reference.random()  # one draw per pick, as random.choices


def test_weighted_profile_draws_match_random_choices():
    profile = next(iter(DEMAND_PROFILES.values()))
    fast, reference = random.Random(3), random.Random(3)
    picks = [_weighted(fast, profile) for _ in range(500)]
    assert picks == [reference.choices(list(profile), list(profile.values()))[0] for _ in range(500)]
    assert set(picks) == {k for k, w in profile.items() if w > 0}
