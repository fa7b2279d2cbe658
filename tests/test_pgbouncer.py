"""Behind PgBouncer in transaction pooling mode (DATABASE_PGBOUNCER=true) the code keeps no
state in a database session: processing and replay, ingest, routing's locks and concurrent
workers pass their tests through a real PgBouncer."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connection

from bench.common import free_port

ROOT = Path(__file__).resolve().parents[1]
THROUGH_PGBOUNCER = [
    "tests/integrations/test_processing.py",  # replay walks events with QuerySet.iterator()
    "tests/inbox/test_ingest_concurrency.py",
    "tests/routing/test_queue.py",
    "tests/sla/test_scan_concurrency.py",
]

pytestmark = [
    pytest.mark.requires_postgres,
    pytest.mark.skipif(not shutil.which("pgbouncer"), reason="needs pgbouncer (apt-get install pgbouncer)"),
]


@pytest.fixture
def pgbouncer():
    database = connection.settings_dict
    port = free_port()
    # PgBouncer refuses to run as root: as root it runs as `postgres`, which must read its files.
    run_as = ["-u", "postgres"] if os.geteuid() == 0 else []
    tmp_path = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    tmp_path.chmod(0o755)
    (tmp_path / "users.txt").write_text(f'"{database["USER"]}" ""\n')
    (tmp_path / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={database['HOST']} port={database['PORT']}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\n"
        f"auth_type = trust\nauth_file = {tmp_path / 'users.txt'}\n"
        "pool_mode = transaction\nmax_client_conn = 500\ndefault_pool_size = 20\n"
        f"unix_socket_dir =\nlogfile = {tmp_path / 'pgbouncer.log'}\n"
    )
    for name in ("users.txt", "pgbouncer.ini"):
        (tmp_path / name).chmod(0o644)
    (tmp_path / "pgbouncer.log").touch()
    (tmp_path / "pgbouncer.log").chmod(0o666)
    process = subprocess.Popen(["pgbouncer", *run_as, str(tmp_path / "pgbouncer.ini")], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", str(port)], capture_output=True).returncode:
        assert time.monotonic() < deadline, "pgbouncer did not start"
        time.sleep(0.1)  # polling a condition with a deadline, not a fixed wait
    yield f"postgres://{database['USER']}@127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)
    shutil.rmtree(tmp_path)


def test_ingest_routing_and_concurrent_workers_pass_through_pgbouncer_in_transaction_mode(pgbouncer):
    environment = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "DATABASE_URL": f"{pgbouncer}/helpdesk_pgbouncer_{free_port()}",
        "DATABASE_PGBOUNCER": "true",
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *THROUGH_PGBOUNCER],
        cwd=ROOT, env=environment, capture_output=True, text=True, check=False, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert " passed" in result.stdout.splitlines()[-1]
