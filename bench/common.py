"""Pieces every benchmark needs: its own database, and a free local port for a server."""

import atexit
import os
import secrets
import socket

import psycopg


def unique_database_name(prefix: str) -> str:
    """A database name no other run uses: benchmarks may share a PostgreSQL server with other
    runs, whose databases they must never drop."""
    return f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"


def database_create(*, server_url: str, name: str) -> None:
    """Create this run's database on the PostgreSQL server at `server_url`; it is dropped when
    the benchmark exits, however it exits."""
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    atexit.register(_database_drop, server_url, name)


def _database_drop(server_url: str, name: str) -> None:
    # FORCE ends this run's own lingering connections (pools, workers); the name is unique.
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
