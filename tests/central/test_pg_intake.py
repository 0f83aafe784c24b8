"""The one-round-trip PostgreSQL intake (central.pg_intake) against a real PostgreSQL server:
it must answer exactly like the SQLAlchemy path, survive closed connections, and fall back
when the database role may not create its function."""
import uuid

import psycopg
import pytest
import requests

from common import clock

from central import codes, pg_intake
from central.db import counters
from central.server import CentralServer
from central.service import Central
from testkit.central import KIOSK_ID, KIOSK_SECRET, sample_dossier

AUTH = (KIOSK_ID, KIOSK_SECRET)


def upload(url, files):
    for sha, data in files.items():
        r = requests.put(f"{url}/api/v1/attachments/{sha}", data=data, auth=AUTH, timeout=30)
        assert r.status_code in (200, 201), r.text


def submit(url, dossier):
    return requests.post(f"{url}/api/v1/dossiers", json=dossier, auth=AUTH, timeout=30)


@pytest.fixture
def pg_database(pg_cluster, request):
    return pg_cluster.fresh_database(f"pgi_{abs(hash(request.node.nodeid)) % 10**9}")


def serve(central: Central) -> CentralServer:
    central.ensure_kiosk(KIOSK_ID, "01", "00004", KIOSK_SECRET)
    return CentralServer(central, port=0).start()


def test_postgresql_uses_the_function_and_sqlite_does_not(server, database):
    assert (server.central.pg is not None) == database.startswith("postgresql")


def test_the_sequence_widens_past_9999_on_both_paths(server):
    """The SQL builds the code itself; it must format like codes.dossier_code (no lpad truncation)."""
    key = codes.counter_key("01", "00004", clock.now().date())
    with server.central.engine.begin() as conn:
        conn.execute(counters.insert().values(key=key, value=9998))
    got = []
    for _ in range(2):
        d, files = sample_dossier()
        upload(server.url, files)
        r = submit(server.url, d)
        assert r.status_code == 201, r.text
        got.append(r.json()["dossier_code"])
    day = clock.now().date()
    assert got == [codes.dossier_code("01", "00004", day, 9999), codes.dossier_code("01", "00004", day, 10000)]
    assert got[1].endswith("-10000")


def test_both_paths_answer_alike_on_one_database(pg_database):
    """A dossier created by one path is a replay for the other, with the same answer; the
    sequence and the missing-attachment refusal are shared too."""
    fast = serve(Central.open(pg_database))
    slow = serve(Central.open(pg_database, fast_intake=False))
    try:
        assert fast.central.pg is not None and slow.central.pg is None
        d1, f1 = sample_dossier(attachments=2)
        first_sha = min(f1)
        upload(fast.url, {first_sha: f1[first_sha]})
        refusals = [submit(s.url, d1) for s in (fast, slow)]
        assert [r.status_code for r in refusals] == [409, 409]
        assert refusals[0].json() == refusals[1].json()
        assert refusals[0].json()["missing"] == sorted(f1)[1:]
        assert fast.central.count_dossiers() == 0

        upload(slow.url, f1)
        created = submit(fast.url, d1)
        assert created.status_code == 201
        for s in (slow, fast):
            again = submit(s.url, d1)
            assert again.status_code == 200
            assert again.json() == {**created.json(), "result": "already"}

        d2, f2 = sample_dossier()
        upload(fast.url, f2)
        second = submit(slow.url, d2).json()
        seqs = [int(a["dossier_code"].rsplit("-", 1)[1]) for a in (created.json(), second)]
        assert seqs == [1, 2]
        assert fast.central.status(second["dossier_code"], second["lookup_secret"])["history"][0]["status"] == "received"
        assert fast.central.count_dossiers() == 2
    finally:
        fast.stop()
        slow.stop()


def test_a_connection_closed_by_the_server_is_replaced(pg_database, pg_cluster):
    srv = serve(Central.open(pg_database))
    try:
        d, files = sample_dossier()
        upload(srv.url, files)
        assert submit(srv.url, d).status_code == 201
        dbname = pg_database.rsplit("/", 1)[1]
        with psycopg.connect(pg_cluster.url, autocommit=True) as admin:
            killed = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s",
                                   (dbname,)).fetchone()[0]
        assert killed >= 1  # the pooled intake connection was among them
        d2, files2 = sample_dossier()
        upload(srv.url, files2)  # first statement on a dead pooled connection: retried on a new one
        r = submit(srv.url, d2)
        assert r.status_code == 201, r.text
        assert submit(srv.url, d).status_code == 200
        # the SQLAlchemy pool (status, admin and CLI calls) had its connections killed too; it
        # drops them after the first failure, which is not what this test is about
        srv.central.engine.dispose()
        assert srv.central.count_dossiers() == 2
    finally:
        srv.stop()


def test_a_role_that_may_not_create_the_function_falls_back(pg_database, pg_cluster):
    """PostgreSQL 15 gives ordinary roles no CREATE on schema public: such a role runs on the
    SQLAlchemy path when the function is missing, and uses it when its owner installed it."""
    Central.open(pg_database, fast_intake=False).close()  # the owner creates the tables only
    role = f"clerk_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_database, autocommit=True) as owner:
        owner.execute(f"CREATE ROLE {role} LOGIN")
        owner.execute(f"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO {role}")
        owner.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")
    as_role = pg_database.replace("postgres@", f"{role}@", 1)

    limited = Central.open(as_role)
    assert limited.pg is None
    srv = serve(limited)
    try:
        d, files = sample_dossier()
        upload(srv.url, files)
        assert submit(srv.url, d).status_code == 201
    finally:
        srv.stop()

    assert pg_intake.install(pg_database)  # the owner installs it (e.g. at deployment)
    srv = serve(Central.open(as_role))
    try:
        assert srv.central.pg is not None
        d2, files2 = sample_dossier()
        upload(srv.url, files2)
        assert submit(srv.url, d2).status_code == 201
        assert submit(srv.url, d).status_code == 200
    finally:
        srv.stop()
