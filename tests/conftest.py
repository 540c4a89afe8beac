"""Shared test settings: hypothesis without deadlines (machines here are shared and noisy)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "minigrad",
    deadline=None,
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "40")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("minigrad")
