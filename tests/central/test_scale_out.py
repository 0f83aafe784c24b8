"""Scale-out (issue 17 part 7): two central instances (separate ``kiosk central serve`` processes)
on one PostgreSQL database behind HAProxy (Debian package ``haproxy``, run here as a child process
with a generated configuration, ``testkit.central.Balancer``) keep every rule of parts 1–6,
whichever instance answers:

- idempotency bound to kiosk and content under concurrent submissions of one UUID to both
  instances and through the balancer: one row, one code, 409 without code or secret for the others,
  never a 5xx; attachments owned per kiosk across instances;
- failed authentications: the balancer passes the client's address on (``X-Forwarded-For``, set by
  HAProxy, trusted by uvicorn from 127.0.0.1 only), so an address is held off by its own failures
  and nobody else's; the limits are per instance, so N instances give N times the free tries
  (documented in docs/central.md, "Running more than one instance");
- bodies over the limit: refused with 413 through the balancer, which streams bodies (never
  collects them) and refuses a declared size over the endpoint's limit itself, with central's body;
- hostile input, refusal bodies, bundles only forward, status transitions (a row lock since this
  part: two staff moving one dossier through two instances are taken in turn);
- mutual TLS: terminated at the balancer (which then checks that the certificate's CN names the
  kiosk), or passed through untouched to instances that terminate it themselves.

The instances start together on an empty database (they race to create its tables: an advisory
lock in central.db.make_engine since this part). About 12 s.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from central import limits
from central.db import dossiers
from central.service import TRANSITIONS, Central
from testkit.central import (
    ADMIN_TOKEN,
    KIOSK_ID,
    KIOSK_SECRET,
    Balancer,
    basic_auth,
    haproxy_available,
    reset_peak_rss,
    rss_kib,
    sample_dossier,
    serve_processes,
    stream_request,
)

ROOT = Path(__file__).resolve().parents[2]
A = (KIOSK_ID, KIOSK_SECRET)
B_ID, B_SECRET = "KIOSK-HN-HONGHA-02", "kiosk-b-secret-5678"
C_ID, C_SECRET = "KIOSK-HCM-01", "kiosk-c-secret-9012"
B, C = (B_ID, B_SECRET), (C_ID, C_SECRET)
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
MiB = 1 << 20
GiB = 1 << 30


def _pki(folder: Path) -> dict[str, str]:
    """A kiosk CA; the server certificate for 127.0.0.1 (with its key, as HAProxy wants it); client
    certificates (with their keys): CN = kiosk A, CN = kiosk B, and one naming A only in a DNS
    subjectAltName."""
    from testkit.pki import mtls_set

    return mtls_set(folder, {"a": (KIOSK_ID, None), "b": (B_ID, None), "a_san": ("kiosk device 17", KIOSK_ID.lower())})


class Farm:
    def __init__(self, database, instances, tls_instances, balancer, central, pki, bundle_key):
        self.database, self.balancer, self.central, self.pki, self.bundle_key = database, balancer, central, pki, bundle_key
        self.procs = [p for p, _ in instances]
        self.a, self.b = (u for _, u in instances)
        self.lb = balancer.url
        self.tls_procs = [p for p, _ in tls_instances]
        self.tls_urls = [u for _, u in tls_instances]

    @property
    def targets(self):
        return {"instance A": self.a, "instance B": self.b, "balancer": self.lb}

    def rows(self, uid: str) -> int:
        with self.central.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(dossiers).where(dossiers.c.uuid == uid)).scalar_one()


@pytest.fixture(scope="module")
def farm(pg_cluster, tmp_path_factory):
    reason = haproxy_available()
    if reason:
        pytest.skip(reason)
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from flows import bundles

    folder = tmp_path_factory.mktemp("scale")
    database = pg_cluster.fresh_database("scale_out")
    pem, public = bundles.generate_key()
    pki = _pki(folder / "pki")
    flows_toml = f'\n[flows]\ntrusted_keys = ["{public}"]\n'
    tls_args = ("--tls-cert", pki["server"], "--tls-key", pki["server"], "--client-ca", pki["ca"])

    def tls_ready(url):
        try:
            return requests.get(f"{url}/api/v1/health", cert=pki["a"], verify=pki["ca"], timeout=1).ok
        except requests.RequestException:
            return False

    # all four at once on the empty database: they race to create its tables and register [kiosk].id
    with ThreadPoolExecutor(2) as pool:
        plain = pool.submit(serve_processes, database, 2, folder=folder / "plain", config_extra=flows_toml)
        tls = pool.submit(serve_processes, database, 2, folder=folder / "tls", config_extra=flows_toml,
                          extra_args=tls_args, ready=tls_ready)
        instances, tls_instances = plain.result(), tls.result()
    central = Central.open(database, fast_intake=False)
    balancer = None
    try:
        central.ensure_kiosk(B_ID, "01", "00097", B_SECRET)  # same province
        central.ensure_kiosk(C_ID, "79", "26734", C_SECRET)  # another province
        balancer = Balancer([u for _, u in instances], folder=folder / "haproxy", tag_instance=True,
                            tls_pem=pki["server"], client_ca=pki["ca"],
                            passthrough_backends=[u for _, u in tls_instances]).start()
        yield Farm(database, instances, tls_instances, balancer, central, pki, load_pem_private_key(pem, None))
    finally:
        if balancer is not None:
            balancer.stop()
        for proc, _ in instances + tls_instances:
            proc.terminate()
        for proc, _ in instances + tls_instances:
            proc.wait(30)
        central.close()


def test_instances_that_start_together_on_an_empty_database(pg_cluster):
    """Eight at once (threads: closer together than processes ever start): each creates the tables
    (before the advisory lock: a unique violation in pg_type, every time) and registers the same
    kiosk (before the retry: a duplicate key, now and then)."""
    database = pg_cluster.fresh_database("scale_start")
    go = threading.Barrier(8)

    def start(_):
        go.wait(30)
        central = Central.open(database)
        try:
            central.ensure_kiosk("KIOSK-START-01", "01", "00004", "start-secret-123456")
            return central.authenticate("KIOSK-START-01", "start-secret-123456") is not None
        finally:
            central.close()

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(start, range(8)))


# --- helpers ---------------------------------------------------------------------------------------
class _FromAddress(requests.adapters.HTTPAdapter):
    """Connections from another loopback address (127.0.0.0/8 is all this machine's)."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kw):
        kw["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kw)


def client_at(address: str) -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    s.mount("http://", _FromAddress(address))
    return s


def upload(url, files, auth, http=requests):
    return [http.put(f"{url}/api/v1/attachments/{sha}", data=data, auth=auth, timeout=30) for sha, data in files.items()]


def submit(url, dossier, auth, http=requests):
    return http.post(f"{url}/api/v1/dossiers", json=dossier, auth=auth, timeout=30)


def assert_no_leak(r, *answers):
    assert r.status_code == 409, (r.status_code, r.text)
    body = r.json()
    assert body["error"] == "uuid_conflict" and body["result"] == "rejected"
    assert "dossier_code" not in body and "lookup_secret" not in body
    for a in answers:
        assert a["dossier_code"] not in r.text and a["lookup_secret"] not in r.text


# --- the balancer -------------------------------------------------------------------------------
def test_the_balancer_spreads_requests_over_both_instances(farm):
    served = [requests.get(f"{farm.lb}/api/v1/health", timeout=10).headers["X-Central-Instance"] for _ in range(6)]
    assert sorted(set(served)) == ["i0", "i1"] and served[:2] != [served[0]] * 2  # round robin, per request
    # one keep-alive connection too: HAProxy balances each request, not each connection
    with requests.Session() as s:
        assert len({s.get(f"{farm.lb}/api/v1/health", timeout=10).headers["X-Central-Instance"] for _ in range(4)}) == 2
    d, files = sample_dossier()
    assert [r.status_code for r in upload(farm.lb, files, A)] == [201]
    first = submit(farm.lb, d, A)
    assert first.status_code == 201, first.text
    for url in (farm.a, farm.b, farm.lb):  # the replay is "already" with the same answer wherever it lands
        again = submit(url, d, A)
        assert again.status_code == 200 and again.json() == {**first.json(), "result": "already"}
    code, secret = first.json()["dossier_code"], first.json()["lookup_secret"]
    for url in (farm.a, farm.b):
        assert requests.get(f"{url}/api/v1/dossiers/{code}", params={"secret": secret}, timeout=10).json()["status"] == "received"


# --- part 4: idempotency that cannot leak, across instances ---------------------------------------
def test_one_uuid_sent_concurrently_to_both_instances_and_the_balancer(farm):
    """Per round, 30 requests at once with one UUID: kiosk A's dossier, kiosk A's other content and
    kiosk B's own dossier, each a third to instance A, instance B and the balancer."""
    winners = set()
    for _ in range(5):
        x, _ = sample_dossier(attachments=0)
        y = {**x, "processing_days": 7}  # the same uuid, other content
        z, _ = sample_dossier(B_ID, attachments=0, commune_code="00097", uid=x["uuid"])
        sends = [(label, doc, auth, target) for label, doc, auth in (("A/x", x, A), ("A/y", y, A), ("B/z", z, B))
                 for target in farm.targets.values()] * 10
        go = threading.Barrier(len(sends))

        def send(job):
            label, doc, auth, target = job
            go.wait(30)
            return label, target, submit(target, doc, auth)

        with ThreadPoolExecutor(len(sends)) as pool:
            answers = list(pool.map(send, sends))
        assert all(r.status_code < 500 for _, _, r in answers), [(r.status_code, r.text) for _, _, r in answers if r.status_code >= 500]
        created = [(label, r.json()) for label, _, r in answers if r.status_code == 201]
        assert len(created) == 1, [(label, r.status_code) for label, _, r in answers]
        assert farm.rows(x["uuid"]) == 1
        won, stored = created[0]
        winners.add(won)
        for label, target, r in answers:
            if label == won:  # the same kiosk and content: its code and secret, wherever it landed
                assert r.status_code in (200, 201) and r.json()["result"] in ("created", "already"), (label, target, r.text)
                assert {k: v for k, v in r.json().items() if k != "result"} == {k: v for k, v in stored.items() if k != "result"}
            else:
                assert_no_leak(r, stored)
    assert winners  # (which one wins is the race's; each round has exactly one)


def test_a_uuid_reused_by_another_kiosk_is_409_without_code_from_every_instance(farm):
    d, _ = sample_dossier(attachments=0)
    first = submit(farm.a, d, A).json()
    mine, _ = sample_dossier(B_ID, attachments=0, commune_code="00097", uid=d["uuid"])
    theirs, _ = sample_dossier(C_ID, attachments=0, commune_code="26734", province_code="79", uid=d["uuid"])
    for url in (farm.a, farm.b, farm.lb, farm.lb):
        assert_no_leak(submit(url, mine, B), first)
        assert_no_leak(submit(url, theirs, C), first)
        assert submit(url, d, A).json() == {**first, "result": "already"}
    assert farm.rows(d["uuid"]) == 1


def test_attachments_belong_to_their_kiosk_across_instances(farm):
    d, files = sample_dossier()
    (sha,) = files
    # kiosk A uploads the same bytes to both instances at once: "stored" once, "already" after
    go = threading.Barrier(6)

    def put(url):
        go.wait(30)
        return requests.put(f"{url}/api/v1/attachments/{sha}", data=files[sha], auth=A, timeout=30)

    with ThreadPoolExecutor(6) as pool:
        results = sorted(r.json()["result"] for r in pool.map(put, [farm.a, farm.b, farm.lb] * 2))
    assert results == ["already"] * 5 + ["stored"]
    # kiosk B names A's attachment, through whichever instance: missing, as if central had never seen it
    mine, _ = sample_dossier(B_ID, attachments=0, commune_code="00097")
    mine["attachments"] = d["attachments"]
    for url in farm.targets.values():
        r = submit(url, mine, B)
        assert r.status_code == 409 and r.json()["result"] == "missing_attachments" and r.json()["missing"] == [sha]
    # kiosk A's dossier passes on the other instance; B's first upload of the bytes is "stored" for B
    assert submit(farm.b, d, A).status_code == 201
    assert [r.json()["result"] for r in upload(farm.lb, files, B)] == ["stored"]
    assert [r.json()["result"] for r in upload(farm.a, files, B)] == ["already"]
    assert submit(farm.a, mine, B).status_code == 201
    assert farm.central.attachment(sha) == files[sha]


# --- part 5: failed authentications, per address and per kiosk id ----------------------------------
def test_failed_authentications_are_counted_per_instance_for_the_real_client_address(farm):
    """Through the balancer each instance sees the kiosk's own address (X-Forwarded-For), so one
    address's failures hold off that address only. Each instance counts its own failures: with
    round robin over 2 instances, an id (5 free) answers 2 × 6 = 12 refusals before the first 429,
    an address (20 free) 2 × 21 = 42."""
    d, _ = sample_dossier(attachments=0)
    assert [submit(url, d, A).status_code for url in (farm.a, farm.b)] == [201, 200]  # A known to both instances
    guesser = client_at("127.0.0.2")
    statuses = [submit(farm.lb, {}, ("NO-SUCH-KIOSK-7", f"guess-{i}-xxxx"), http=guesser).status_code for i in range(16)]
    assert statuses == [401] * 12 + [429] * 4
    # the right secret of a kiosk whose id is being guessed still passes, wherever it lands
    guesses = [submit(farm.lb, {}, (KIOSK_ID, f"guess-{i}-xxxx"), http=guesser).status_code for i in range(14)]
    assert guesses == [401] * 12 + [429] * 2
    assert [submit(url, d, A).status_code for url in (farm.lb, farm.lb, farm.a, farm.b)] == [200, 200, 200, 200]

    # an address: other ids each time (no id reaches its own limit)
    attacker = client_at("127.0.0.3")
    codes = [submit(farm.lb, {}, (f"KIOSK-GUESS-{i:03d}", "guess-xxxx"), http=attacker) for i in range(44)]
    assert [r.status_code for r in codes] == [401] * 42 + [429] * 2
    r = codes[-1]
    assert int(r.headers["Retry-After"]) >= 1 and r.json()["error"] == "rate_limited" and r.json()["message_vi"]
    # held off even with its right secret and a forged X-Forwarded-For (the balancer replaces the header)
    forged = {"X-Forwarded-For": "127.0.0.4"}
    assert attacker.post(f"{farm.lb}/api/v1/dossiers", json=d, auth=A, headers=forged, timeout=30).status_code == 429
    assert submit(farm.a, d, A, http=attacker).status_code == 429  # straight to an instance: the same address
    # …while kiosks at other addresses, and the one it pretended to be, are not held off at all
    for address in ("127.0.0.4", "127.0.0.1"):
        with client_at(address) as kiosk:
            assert [submit(farm.lb, d, A, http=kiosk).status_code for _ in range(2)] == [200, 200]


def test_refusal_bodies_and_hostile_input_through_the_balancer(farm):
    lb = farm.lb
    for headers in ({"Authorization": "Basic !!!"}, {"Authorization": "Basic " + "YWJj"}, {}):
        r = requests.post(f"{lb}/api/v1/dossiers", data=b"{}", headers=headers, timeout=10)
        assert r.status_code == 401 and r.json()["error"] == "unauthorized" and r.json()["message_vi"]
    r = requests.post(f"{lb}/api/v1/kiosks/{B_ID}/heartbeat", json={}, auth=A, timeout=10)
    assert r.status_code == 403 and r.json()["error"] == "wrong_kiosk"
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert requests.get(f"{lb}{path}", timeout=10).status_code == 404
    deep = b"[" * 100_000 + b"]" * 100_000
    for body in (b'{"uuid": "\\ud800"}', deep, '{"x": "é"}'.encode("latin-1")):
        for _ in range(2):  # both instances
            r = requests.post(f"{lb}/api/v1/dossiers", data=body, auth=A, headers={"Content-Type": "application/json"}, timeout=10)
            assert r.status_code == 422 and r.json()["error"] == "invalid_json", r.text
    bad = {**sample_dossier(attachments=0)[0], "procedure": "x"}
    assert [submit(lb, bad, A).status_code for _ in range(2)] == [422, 422]


# --- part 1: bodies over the limit, through the balancer -----------------------------------------
ATTACHMENT = "/api/v1/attachments/" + "0" * 64
HEARTBEAT = f"/api/v1/kiosks/{KIOSK_ID}/heartbeat"
BODY_CASES = [
    # (name, method, path, size, credentials, chunked, status, error, limit, bytes that may go in before the answer)
    # a declared size over the endpoint's limit: the balancer's own 413 (central's words), nothing forwarded
    ("dossier, 1 GiB, Content-Length", "POST", "/api/v1/dossiers", GiB, False, False, 413, "too_large",
     limits.MAX_DOSSIER_BYTES, 16 * MiB),
    ("dossier, 600 KiB, Content-Length", "POST", "/api/v1/dossiers", 600 << 10, True, False, 413, "too_large",
     limits.MAX_DOSSIER_BYTES, 16 * MiB),
    ("attachment, 1 GiB, Content-Length", "PUT", ATTACHMENT, GiB, True, False, 413, "too_large", limits.MAX_ATTACHMENT_BYTES,
     16 * MiB),
    ("attachment, 30 MiB, Content-Length", "PUT", ATTACHMENT, 30 * MiB, True, False, 413, "too_large",
     limits.MAX_ATTACHMENT_BYTES, 16 * MiB),
    ("heartbeat, 1 GiB, Content-Length, no credentials", "POST", HEARTBEAT, GiB, False, False, 413, "too_large",
     limits.MAX_HEARTBEAT_BYTES, 16 * MiB),
    ("status change, 1 GiB, Content-Length", "POST", "/api/v1/dossiers/01.00004-261123-0001/status", GiB, False, False, 413,
     "too_large", limits.MAX_SMALL_BYTES, 16 * MiB),
    # chunked (no declared size): streamed to an instance, which counts and refuses
    ("dossier, 1 GiB, chunked", "POST", "/api/v1/dossiers", GiB, True, True, 413, "too_large", limits.MAX_DOSSIER_BYTES, 16 * MiB),
    ("attachment, 1 GiB, chunked", "PUT", ATTACHMENT, GiB, True, True, 413, "too_large", limits.MAX_ATTACHMENT_BYTES,
     limits.MAX_ATTACHMENT_BYTES + 16 * MiB),
    ("heartbeat, 1 GiB, chunked, no credentials", "POST", HEARTBEAT, GiB, False, True, 401, "unauthorized", None, 16 * MiB),
]


@pytest.mark.parametrize("name,method,path,size,auth,chunked,status,error,limit,max_sent", BODY_CASES,
                         ids=[c[0] for c in BODY_CASES])
def test_a_huge_body_is_refused_through_the_balancer_without_being_collected(farm, name, method, path, size, auth, chunked,
                                                                            status, error, limit, max_sent):
    watched = [farm.balancer.pid, *(p.pid for p in farm.procs)]
    idle = {pid: rss_kib(pid) for pid in watched}
    for pid in watched:
        reset_peak_rss(pid)
    answer = stream_request(farm.lb, method, path, size, headers=basic_auth() if auth else {}, chunked=chunked)
    if chunked and answer.status is None:
        # The instance answered and closed with the rest of the body unread: its kernel resets the
        # connection, and when the reset reaches HAProxy before the answer does, HAProxy closes the
        # client's connection without one (its log: SD, status -1). A kiosk sends a Content-Length,
        # which the balancer refuses itself (above); docs/central.md says so.
        pass
    else:
        assert answer.status == status, (answer.status, answer.body[:300])
        if chunked and not answer.body:
            pass  # the same reset, a moment later: the status line came through, the body did not
        else:
            body = json.loads(answer.body)
            assert body["error"] == error and body["message_vi"] and body["message_en"]
            assert body.get("limit") == limit
            assert (answer.headers.get("server") == "uvicorn") == chunked  # refused by an instance / by the balancer
    assert answer.sent <= max_sent, f"{answer.sent / MiB:.0f} MiB went in before the answer"
    for pid in watched:  # neither the balancer nor an instance collected the body
        growth = rss_kib(pid, "VmHWM") - idle[pid]
        assert growth <= 20 * 1024, f"{name}: process {pid} grew by {growth / 1024:.0f} MiB"


def test_bodies_within_the_limits_pass_and_the_kiosk_holds_a_refused_one(farm):
    from kiosk.client import CentralClient, Refused

    data = os.urandom(limits.MAX_ATTACHMENT_BYTES)  # exactly the limit: through
    sha = hashlib.sha256(data).hexdigest()
    assert requests.put(f"{farm.lb}/api/v1/attachments/{sha}", data=data, auth=A, timeout=60).status_code == 201
    d, _ = sample_dossier(attachments=0)
    d["answers"]["note"] = "x" * (limits.MAX_DOSSIER_BYTES - len(json.dumps(d)) - 100)
    assert submit(farm.lb, d, A).status_code == 201
    d["answers"]["note"] += "x" * 200  # and just over it
    with pytest.raises(Refused) as exc:
        CentralClient(farm.lb, KIOSK_ID, KIOSK_SECRET, timeout=30).submit(d)
    assert exc.value.status == 413 and exc.value.code == "too_large"


def test_the_balancer_still_serves_after_the_refusals(farm):
    d, files = sample_dossier()
    assert [r.status_code for r in upload(farm.lb, files, A)] == [201]
    assert submit(farm.lb, d, A).status_code == 201


# --- part 6 and status changes: one database, one order -------------------------------------------
def test_bundles_only_move_forward_across_instances(farm):
    from flows import bundles

    paths = sorted((ROOT / "flows" / "definitions").glob("*.yaml"))[:1]

    def signed(bundle_id, day):
        return bundles.sign(bundles.build_bundle(paths, bundle_id=bundle_id, created_at=datetime(2026, 11, day, tzinfo=timezone.utc)),
                            farm.bundle_key)

    headers = {**ADMIN, "Content-Type": "application/zip"}
    old, new = signed("scale-old", 1), signed("scale-new", 20)
    go = threading.Barrier(2)

    def publish(url, data):
        go.wait(30)
        return requests.post(f"{url}/api/v1/flows/bundles", data=data, headers=headers, timeout=60)

    with ThreadPoolExecutor(2) as pool:
        r_old, r_new = pool.map(publish, (farm.a, farm.b), (old, new))
    assert r_new.status_code == 201 and r_old.status_code in (201, 409), r_old.text
    for url in farm.targets.values():
        assert requests.get(f"{url}/api/v1/flows", timeout=10).json()["bundle_id"] == "scale-new"
        assert requests.post(f"{url}/api/v1/flows/bundles", data=signed("scale-older", 2), headers=headers,
                             timeout=60).json()["error"] == "bundle_older"
    history = requests.get(f"{farm.lb}/api/v1/flows/history", headers=ADMIN, timeout=10).json()
    published = [e["bundle_id"] for e in history["events"] if e["action"] == "publish"]
    assert published[-1] == "scale-new" and "scale-older" not in published


def test_two_staff_moving_one_dossier_through_two_instances_are_taken_in_turn(farm):
    codes = []
    for _ in range(8):
        d, _ = sample_dossier(attachments=0)
        codes.append(submit(farm.lb, d, A).json())
    for answer in codes:
        go = threading.Barrier(2)

        def move(url, status):
            go.wait(30)
            return requests.post(f"{url}/api/v1/dossiers/{answer['dossier_code']}/status", json={"status": status},
                                 headers=ADMIN, timeout=30)

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(move, (farm.a, farm.b), ("processing", "returned")))
        assert all(r.status_code in (200, 409) for r in results), [r.text for r in results]
        chain = [h["status"] for h in farm.central.status(answer["dossier_code"], answer["lookup_secret"])["history"]]
        assert all(b in TRANSITIONS[a] for a, b in zip(chain, chain[1:])), chain
        assert len(chain) - 1 == sum(r.status_code == 200 for r in results)


# --- part 5: mutual TLS with a balancer -----------------------------------------------------------
def test_mutual_tls_terminated_at_the_balancer(farm):
    """HAProxy requires a certificate of the kiosk CA and checks that its CN is the kiosk id of the
    Basic credentials (the instances behind it see plain HTTP and check no certificate)."""
    url, pki = f"https://127.0.0.1:{farm.balancer.tls_port}", farm.pki

    def send(cert, auth=A):
        return submit(url, sample_dossier(attachments=0)[0], auth, http=_tls(cert, pki["ca"]))

    assert [send(pki["a"]).status_code for _ in range(2)] == [201, 201]
    r = send(pki["b"])  # kiosk B's own certificate, kiosk A's credentials
    assert r.status_code == 403 and r.json()["error"] == "certificate_mismatch" and r.json()["message_vi"]
    assert send(pki["b"], B).status_code == 422  # B as B: through (then refused for A's dossier: kiosk_mismatch)
    assert send(pki["a_san"]).status_code == 403  # the balancer checks the CN only (central also takes a DNS SAN)
    with pytest.raises(requests.exceptions.ConnectionError):  # SSLError, or a reset after the handshake (TLS 1.3)
        requests.get(f"{url}/api/v1/health", verify=pki["ca"], timeout=10)  # no certificate: no TLS session
    # calls without kiosk credentials need only a certificate of the CA
    assert _tls(pki["b"], pki["ca"]).get(f"{url}/api/v1/flows", timeout=10).status_code == 200
    from kiosk.client import AuthError, CentralClient

    client = CentralClient(url, KIOSK_ID, KIOSK_SECRET, ca_file=pki["ca"], client_cert=pki["b"], timeout=10)
    with pytest.raises(AuthError) as exc:
        client.submit(sample_dossier(attachments=0)[0])
    assert exc.value.status == 403 and exc.value.code == "certificate_mismatch"
    ok = CentralClient(url, KIOSK_ID, KIOSK_SECRET, ca_file=pki["ca"], client_cert=pki["a"], timeout=10)
    assert ok.submit(sample_dossier(attachments=0)[0]).dossier_code


def test_mutual_tls_passed_through_to_instances_that_terminate_it(farm):
    """HAProxy in TCP mode: each instance checks the certificate itself (CN or DNS SAN), as with
    one instance; every connection goes to the next instance."""
    url, pki = f"https://127.0.0.1:{farm.balancer.passthrough_port}", farm.pki

    def send(cert, auth=A):
        return submit(url, sample_dossier(attachments=0)[0], auth, http=_tls(cert, pki["ca"]))

    assert [send(pki["a"]).status_code for _ in range(2)] == [201, 201]
    assert [send(pki["a_san"]).status_code for _ in range(2)] == [201, 201]
    for _ in range(2):
        r = send(pki["b"])
        assert r.status_code == 403 and r.json()["error"] == "certificate_mismatch"
    for direct in farm.tls_urls:  # and each instance on its own
        assert submit(direct, sample_dossier(attachments=0)[0], A, http=_tls(pki["b"], pki["ca"])).status_code == 403


def _tls(cert: str, ca: str) -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    s.cert, s.verify = cert, ca
    return s


def test_the_configuration_in_the_docs_is_the_one_tested():
    """docs/central.md, "Running more than one instance", shows haproxy_config's output."""
    from testkit.central import haproxy_config

    doc = (ROOT / "docs" / "central.md").read_text(encoding="utf-8")
    shown = doc.split("### Running more than one instance", 1)[1].split("```haproxy\n", 1)[1].split("```", 1)[0]
    made = haproxy_config(["http://10.0.0.11:8780", "http://10.0.0.12:8780"], port=8080, host="10.0.0.5", tls_port=443,
                          tls_pem="/etc/haproxy/central.pem", client_ca="/etc/haproxy/kiosk-ca.pem")
    assert shown == made[made.index("defaults"):]
