import os
import shutil

import pytest

from testkit.central import PostgresCluster, postgres_available, start_central


def _ram_dir() -> str | None:
    """/dev/shm when it has room for the test databases (~8 MB each, ~40 of them), else None
    (the system temp dir). On the shared CI disk, deleting ~300 MB of freshly written database
    files at the end of the session took 5-18 s; in RAM it is instant, and so is CREATE DATABASE."""
    try:
        return "/dev/shm" if shutil.disk_usage("/dev/shm").free > 1 << 30 and os.access("/dev/shm", os.W_OK) else None
    except OSError:
        return None


@pytest.fixture(scope="session")
def pg_cluster():
    reason = postgres_available()
    if reason:
        pytest.skip(f"PostgreSQL not available: {reason}")
    # Durability settings off: no test here crashes the server or cares about what survives one.
    cluster = PostgresCluster(settings={"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"},
                              parent=_ram_dir())
    try:  # stop() also when start() fails half-way: no server or temp dir left behind
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """Each central test runs on SQLite and on a real PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "central.sqlite3")
    cluster = request.getfixturevalue("pg_cluster")
    return cluster.fresh_database(f"t_{abs(hash(request.node.nodeid)) % 10**9}")


@pytest.fixture
def server(database):
    srv = start_central(database)
    yield srv
    srv.stop()


_HASHED: dict[tuple[str, int], str] = {}


@pytest.fixture(autouse=True)
def _one_hash_per_test_password(monkeypatch):
    """The console fixtures add the same few accounts to every test, each password hashed at the
    production cost (200,000 PBKDF2 rounds): memoised per (password, rounds) for the session. The
    stored value is a real hash of that password at that cost, and every login still verifies it
    at full cost; only the repeated hashing of one password is saved."""
    try:
        import central.console.accounts as accounts
    except ImportError:
        return
    real = accounts.hash_secret

    def hash_once(secret: str, *, iterations: int, salt: bytes | None = None) -> str:
        if salt is not None:
            return real(secret, iterations=iterations, salt=salt)
        if (secret, iterations) not in _HASHED:
            _HASHED[(secret, iterations)] = real(secret, iterations=iterations)
        return _HASHED[(secret, iterations)]

    monkeypatch.setattr(accounts, "hash_secret", hash_once)
