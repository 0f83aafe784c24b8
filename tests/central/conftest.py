import pytest

from central.testing import PostgresCluster, postgres_available, start_central


@pytest.fixture(scope="session")
def pg_cluster():
    reason = postgres_available()
    if reason:
        pytest.skip(f"PostgreSQL not available: {reason}")
    # Durability settings off: no test here crashes the server, and on the shared CI machine
    # syncing and removing ~300 MB of per-test databases cost 15 s at the end of the session.
    cluster = PostgresCluster(settings={"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"})
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
