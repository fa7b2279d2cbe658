"""Pieces every benchmark needs: its own database, and a free local port for a server."""

import socket

import psycopg


def database_recreate(*, server_url: str, name: str) -> None:
    """Drop and create the benchmark's own database on the PostgreSQL server at `server_url`."""
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
