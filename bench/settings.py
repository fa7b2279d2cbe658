"""Settings for the benchmarks: the product's, plus a baseline view."""

from helpdesk.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
