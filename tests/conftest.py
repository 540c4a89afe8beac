"""Shared test settings: hypothesis without deadlines (machines here are shared and noisy)."""

import os

import pytest
from hypothesis import HealthCheck, settings

from micrograd import autodiff
from tensorgrad.tensor import anomaly_mode

from . import oracle

settings.register_profile(
    "minigrad",
    deadline=None,
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "40")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("minigrad")


@pytest.fixture(autouse=True)
def _inside_a_test():
    """While a test runs, using the PyTorch stand-in (no PyTorch installed) skips it.

    Afterwards grad mode and anomaly mode are back to their defaults, so a test that
    fails while it has switched one of them cannot make the tests after it fail too.
    """
    oracle.in_test = True
    yield
    oracle.in_test = False
    autodiff._mode.enabled, autodiff._mode.saved[:] = True, []
    anomaly_mode.enabled, anomaly_mode.saved[:] = False, []
