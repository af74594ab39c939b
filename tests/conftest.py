"""Hypothesis profiles for the property tests.

CI (`.ci/run`) sets HYPOTHESIS_PROFILE=ci: every run draws the same examples, so whether a submission lands does not
depend on the luck of a draw. Other runs (`make test` on a workstation) draw new examples each time and keep finding
new cases; pin each one found with `@example` in its test, where CI then checks it too."""
import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
