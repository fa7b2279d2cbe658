import os

from django.apps import AppConfig


class BenchConfig(AppConfig):
    """The benchmarks' own hooks; installed by bench/settings.py only."""

    name = "bench"

    def ready(self) -> None:
        if os.environ.get("BENCH_SQL_COUNTER"):
            from bench import sqlcount

            sqlcount.install()
