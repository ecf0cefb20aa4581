"""Hypothesis settings for the property tests: a bounded run in `make test`, a long one in
`make reliability` (SIAGA_HYPOTHESIS_PROFILE=reliability). Imported by each property test module."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE_ENV = "SIAGA_HYPOTHESIS_PROFILE"

# deadline=None: the machine is shared, one slow example under load is not a failure.
# Under CI the same examples every run (a red CI must be reproducible); locally new ones each run.
settings.register_profile("siaga", max_examples=50, deadline=None, derandomize=bool(os.environ.get("CI")),
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("reliability", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get(PROFILE_ENV, "siaga"))
