"""Fixtures of the fieldwork tests: a database URL for SQLite always, and for PostgreSQL when
Debian's server binaries are installed (a throwaway cluster in a temp dir on a free loopback
port, run as an unprivileged user).

``db_url`` is parametrised over ["sqlite", "postgresql"]; the PostgreSQL case is skipped with the
reason when /usr/lib/postgresql/*/bin/initdb is absent, and FAILS under CI=true (where .ci/run
installs the `postgresql` package). SURVEYDATA_TEST_PG_URL points the tests at an existing
server instead (each test gets its own fresh database there too).
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_user(cmd: list[str]) -> list[str]:
    """Run as `postgres` when we are root (initdb refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@pytest.fixture(scope="session")
def pg_server():
    """A base URL (without database) of a running PostgreSQL, or skip with the reason."""
    given = os.environ.get("SURVEYDATA_TEST_PG_URL")
    if given:
        yield given.rstrip("/")
        return
    bindir = _pg_bin()
    if bindir is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI is set but PostgreSQL is not installed: .ci/run must "
                        "`apt-get install -y postgresql`")
        pytest.skip("PostgreSQL server binaries not installed (apt-get install -y postgresql); "
                    "CI installs them and runs these tests")
    tmp = Path(tempfile.mkdtemp(prefix="sd-pg-"))
    data = tmp / "data"
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres", "postgres")
    tmp.chmod(0o700)
    port = _free_port()
    subprocess.run(_as_user([str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                             "--auth=trust", "-E", "UTF8", "--no-sync"]),
                   check=True, capture_output=True)
    log = tmp / "log"
    subprocess.run(_as_user([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w",
                             "-o", (f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 "
                                   "-c fsync=off -c max_connections=300"),
                             "start"]), check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(_as_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                 "-w", "stop"]), check=False, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


def _fresh_pg_database(base: str) -> str:
    import sqlalchemy as sa

    name = "t_" + uuid.uuid4().hex[:12]
    eng = sa.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    eng.dispose()
    return f"{base}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh empty database: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fieldwork.sqlite'}"
    base = request.getfixturevalue("pg_server")
    return _fresh_pg_database(base)


@pytest.fixture(scope="session")
def study():
    from surveydata.fieldwork.study import load

    return load(None)
