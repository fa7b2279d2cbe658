"""Settings for the benchmarks: the product's, plus a baseline view and the benchmarks' hooks."""

from helpdesk.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]  # noqa: F405
