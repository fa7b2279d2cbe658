"""Count the SQL statements Celery tasks execute, across worker processes, for bench/e2e.py.

Installed by `BenchConfig.ready` only when BENCH_SQL_COUNTER names a Redis key: each task's
statements (BEGIN and COMMIT excepted: Django issues those outside the cursor) are added to it.
"""

import os


def install() -> None:
    import redis
    from celery.signals import task_postrun, task_prerun
    from django.conf import settings
    from django.db import connection

    key = os.environ["BENCH_SQL_COUNTER"]
    client = redis.Redis.from_url(settings.REDIS_URL)
    count = [0]

    def counted(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    def before(**_kwargs) -> None:
        count[0] = 0
        connection.execute_wrappers.append(counted)

    def after(**_kwargs) -> None:
        if counted in connection.execute_wrappers:
            connection.execute_wrappers.remove(counted)
        client.incrby(key, count[0])

    task_prerun.connect(before, weak=False)
    task_postrun.connect(after, weak=False)
