"""Django's PostgreSQL backend, saying why a pooled connection could not be had.

With a connection pool, a server that refuses every connection (no such database, wrong
password, nothing listening) surfaces only as "couldn't get a connection after 10.00 sec",
the real cause buried in the pool's warnings. On that time-out this backend tries one direct
connection: its error is the cause, or, when it succeeds, the pool was simply full.
"""

import psycopg
from django.db.backends.postgresql import base
from psycopg_pool import PoolTimeout


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        try:
            return super().get_new_connection(conn_params)
        except PoolTimeout as timeout:
            raise self._pool_timeout_explained(conn_params) from timeout

    def _pool_timeout_explained(self, conn_params: dict) -> psycopg.OperationalError:
        params = {**conn_params, "connect_timeout": 5}
        params.pop("cursor_factory", None)
        try:
            psycopg.connect(**params).close()
        except psycopg.Error as cause:
            return psycopg.OperationalError(
                f"Cannot connect to PostgreSQL database {conn_params.get('dbname')!r} on "
                f"{conn_params.get('host') or 'localhost'}:{conn_params.get('port') or 5432}: "
                f"{str(cause).strip()} ({_hint(str(cause))})"
            )
        pool = self.settings_dict["OPTIONS"]["pool"]
        return psycopg.OperationalError(
            f"All {pool['max_size']} pooled connections of this process stayed busy for "
            f"{pool['timeout']} s: raise DATABASE_POOL_MAX_SIZE (within PostgreSQL's "
            "max_connections), or look for long transactions."
        )


def _hint(cause: str) -> str:
    if "does not exist" in cause:
        return "create the database first: createdb -h HOST -U USER NAME"
    if "too many clients" in cause:
        return (
            "the server's max_connections is reached: keep processes x DATABASE_POOL_MAX_SIZE below it "
            "(README: pool sizing), or put PgBouncer in front"
        )
    return "check DATABASE_URL and that PostgreSQL is running"
