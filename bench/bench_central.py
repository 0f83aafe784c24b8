"""Central intake throughput and latency with N concurrent kiosks on loopback, SQLite vs PostgreSQL.

The server runs as its own uvicorn process(es) (``central.asgi:app_from_env``); the load generator
is 2 processes, each kiosk with its own credentials and its own keep-alive connection. One
*dossier* = ``PUT`` of a 2 KiB attachment + ``POST`` of the dossier (what a kiosk really does).
Everything runs on the same 2 shared cores, so the generator's CPU is part of the bill.

Each run measures the configuration from before the tuning (SQLAlchemy intake, ``requests``
threads) next to the new one (``central.pg_intake``, raw asyncio kiosks) and the two mixed ones,
so the ratio is taken on the same machine at the same time. Writes bench/results/central.md.

    python bench/bench_central.py [--seconds 8] [--quick]
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from results_io import write_results  # noqa: E402 - bench/ is the script's folder

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-kiosk-secret-123"


def _dossiers(kiosk_id, communes, deadline):
    """One kiosk's stream of dossiers (2 KiB attachment each) over the communes, until ``deadline``."""
    from testkit.central import sample_dossier

    i = 0
    while time.monotonic() < deadline:
        yield sample_dossier(kiosk_id, commune_code=communes[i % len(communes)], attachment_size=2048)
        i += 1


def _kiosk_thread(url, kiosk_id, communes, start, deadline, out, errors):
    import requests

    s = requests.Session()
    s.auth = (kiosk_id, SECRET)
    for d, files in _dossiers(kiosk_id, communes, deadline):
        t0 = time.monotonic()
        try:
            for sha, data in files.items():
                r = s.put(f"{url}/api/v1/attachments/{sha}", data=data, timeout=30)
                if r.status_code not in (200, 201):
                    errors.append(r.status_code)
                    continue
            t1 = time.monotonic()
            r = s.post(f"{url}/api/v1/dossiers", json=d, timeout=30)
            t2 = time.monotonic()
            if r.status_code == 201 and r.json().get("result") == "created":
                if t0 >= start:  # the warm-up (connections, per-worker credential cache) is not measured
                    out.append((t2 - t0, t2 - t1))
            else:
                errors.append(r.status_code)
        except requests.RequestException as exc:
            errors.append(type(exc).__name__)


class _HTTPError(Exception):
    pass


async def _read_response(reader) -> tuple[int, bytes]:
    """One HTTP/1.1 response with a Content-Length (what uvicorn sends for these answers)."""
    status_line = await reader.readline()
    if not status_line:
        raise _HTTPError("connection closed")
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length) if length else b""


async def _kiosk_raw(host, port, kiosk_id, communes, start, deadline, out, errors):
    """One kiosk as a coroutine speaking HTTP/1.1 on one keep-alive connection: the same two
    requests with the same headers as ``kiosk.client`` (Basic auth, JSON body), without the
    per-request machinery of ``requests`` that made the generator cost more CPU than the server."""
    import base64
    import json


    auth = b"Authorization: Basic " + base64.b64encode(f"{kiosk_id}:{SECRET}".encode()) + b"\r\n"
    head = f"Host: {host}:{port}\r\nUser-Agent: bench-kiosk\r\n".encode() + auth
    reader = writer = None
    for d, files in _dossiers(kiosk_id, communes, deadline):
        t0 = time.monotonic()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            for sha, data in files.items():
                writer.write(b"PUT /api/v1/attachments/" + sha.encode() + b" HTTP/1.1\r\n" + head
                             + b"Content-Type: application/octet-stream\r\nContent-Length: " + str(len(data)).encode()
                             + b"\r\n\r\n" + data)
                status, _ = await _read_response(reader)
                if status not in (200, 201):
                    raise _HTTPError(status)
            t1 = time.monotonic()
            body = json.dumps(d).encode()
            writer.write(b"POST /api/v1/dossiers HTTP/1.1\r\n" + head + b"Content-Type: application/json\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\n\r\n" + body)
            status, answer = await _read_response(reader)
            t2 = time.monotonic()
            if status == 201 and json.loads(answer).get("result") == "created":
                if t0 >= start:
                    out.append((t2 - t0, t2 - t1))
            else:
                errors.append(status)
        except (OSError, asyncio.IncompleteReadError, _HTTPError, ValueError) as exc:
            errors.append(exc.args[0] if isinstance(exc, _HTTPError) else type(exc).__name__)
            if writer is not None:
                writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def _raw_process_main(url, kiosk_ids, communes, start, deadline, out, errors):
    from urllib.parse import urlsplit

    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    u = urlsplit(url)

    async def main():
        await asyncio.gather(*(_kiosk_raw(u.hostname, u.port, k, communes, start, deadline, out, errors) for k in kiosk_ids))

    runner(main())


WARMUP_S = 3.0


def _load_process(url, kiosk_ids, communes, start, seconds, queue, client):
    deadline = start + seconds
    out, errors = [], []
    if client == "raw":
        t = threading.Thread(target=_raw_process_main, args=(url, kiosk_ids, communes, start, deadline, out, errors))
        threads = [t]
    else:
        threads = [threading.Thread(target=_kiosk_thread, args=(url, k, communes, start, deadline, out, errors)) for k in kiosk_ids]
    [t.start() for t in threads]
    time.sleep(max(0.0, start - time.monotonic()))
    cpu0 = time.process_time()
    [t.join() for t in threads]
    queue.put((out, errors, time.process_time() - cpu0))


def machine_busy_s() -> float:
    """CPU seconds all cores spent busy (not idle or waiting for I/O) since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def run_load(url, n_kiosks, seconds, communes, server_pid, client="requests", pg_pid=None):
    """Latencies, errors, elapsed, and CPU seconds over the measured window only: server,
    load generator, PostgreSQL (postmaster and backends) and the whole machine."""
    ids = [f"BENCH-{i:03d}" for i in range(n_kiosks)]
    queue = mp.Queue()
    start = time.monotonic() + WARMUP_S  # CLOCK_MONOTONIC is system-wide on Linux: shared by both processes
    procs = [mp.Process(target=_load_process, args=(url, ids[p::2], communes, start, seconds, queue, client)) for p in range(2)]
    t0 = time.monotonic()
    [p.start() for p in procs]
    time.sleep(max(0.0, start - time.monotonic()))
    server0, pg0, busy0 = process_cpu_s(server_pid), process_cpu_s(pg_pid) if pg_pid else 0.0, machine_busy_s()
    time.sleep(max(0.0, start + seconds - time.monotonic()))
    # requests still in flight at the deadline are a rounding error
    server1, pg1, busy1 = process_cpu_s(server_pid), process_cpu_s(pg_pid) if pg_pid else 0.0, machine_busy_s()
    results = [queue.get() for _ in procs]
    [p.join() for p in procs]
    elapsed = time.monotonic() - t0
    lat = [x for out, _, _ in results for x in out]
    errors = [e for _, errs, _ in results for e in errs]
    return {"lat": lat, "errors": errors, "elapsed": elapsed, "server_cpu": server1 - server0,
            "gen_cpu": sum(c for _, _, c in results), "pg_cpu": pg1 - pg0, "busy": busy1 - busy0}


def process_cpu_s(pid: int) -> float:
    """User+system CPU seconds of a process and its direct children (uvicorn's workers)."""
    tick = os.sysconf("SC_CLK_TCK")

    def one(p):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            return 0.0

    total = one(pid)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                total += one(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            pass
    return total


def pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def start_server(database, workers, port, fast_intake=True, freeze=True):
    env = {**os.environ, "CENTRAL_DATABASE": database, "PYTHONPATH": str(ROOT), "CENTRAL_FAST_INTAKE": "1" if fast_intake else "0",
           "CENTRAL_GC_FREEZE": "1" if freeze else "0",
           # stderr is a pipe nobody reads while the load runs: an INFO line per dossier would fill it and stall the server
           "CENTRAL_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "central.asgi:app_from_env", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    import requests

    for _ in range(300):
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).ok:
                return proc
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start: " + proc.stderr.read().decode()[-2000:])


def prepare(database, n_kiosks):
    from central.codes import hash_kiosk_secret
    from central.db import kiosks
    from central.service import Central

    central = Central.open(database)
    h = hash_kiosk_secret(SECRET)  # one hash for all bench kiosks: registering 64 × PBKDF2 is not what we measure
    with central.engine.begin() as conn:
        conn.execute(kiosks.delete())
        conn.execute(kiosks.insert(), [{"kiosk_id": f"BENCH-{i:03d}", "secret_hash": h, "province_code": "01",
                                        "commune_code": "00004", "registered_at": "2026-11-23T00:00:00+07:00"} for i in range(n_kiosks)])
    central.engine.dispose()


def prepare_one(database, kiosk_id):
    """Register one kiosk with the bench secret (used by bench_outbox)."""
    from central.service import Central

    central = Central.open(database)
    central.register_kiosk(kiosk_id, "01", "00004", SECRET)
    central.engine.dispose()


# (database, server workers, kiosks, intake path, load generator, heap frozen). "sqlalchemy" +
# "requests" without the frozen heap is the code as it was before this tuning; every run measures
# it again next to the new one, so the ratio compares like with like on a noisy machine.
CONFIGS = [
    ("sqlite", 1, 16, "sqlalchemy", "requests", False),
    ("sqlite", 1, 16, "sqlalchemy", "raw", True),
    ("postgresql", 1, 16, "sqlalchemy", "requests", False),
    ("postgresql", 2, 16, "sqlalchemy", "requests", False),
    ("postgresql", 2, 16, "sqlalchemy", "raw", True),
    ("postgresql", 2, 16, "pg_intake", "requests", True),
    ("postgresql", 1, 16, "pg_intake", "raw", True),
    ("postgresql", 2, 16, "pg_intake", "raw", True),
    ("postgresql", 2, 32, "pg_intake", "raw", True),
]
QUICK = [("postgresql", 2, 16, "sqlalchemy", "requests", False), ("postgresql", 2, 16, "pg_intake", "raw", True)]


def postmaster_pid(pg) -> int | None:
    try:
        return int((pg.dir / "data" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=8.0, help="load duration per configuration")
    ap.add_argument("--quick", action="store_true", help="only the old and the new PostgreSQL configuration")
    ap.add_argument("--repeat", type=int, default=3,
                    help="run the whole list this many times, interleaved; each row shows the run with the median rate")
    args = ap.parse_args(argv)

    from testkit.central import PostgresCluster, free_port, postgres_available
    from flows import units

    communes = [c.code for c in units.communes("01")][:60]
    configs = QUICK if args.quick else CONFIGS
    reason = postgres_available()
    pg = None if reason else PostgresCluster().start()
    runs: dict[tuple, list] = {cfg: [] for cfg in configs}
    try:
        for i, cfg in [(i, c) for _ in range(args.repeat) for i, c in enumerate(configs)]:
            engine, workers, n, intake, client, freeze = cfg
            if engine == "postgresql" and pg is None:
                continue
            tmp = tempfile.mkdtemp(prefix="bench-central-")
            database = f"{tmp}/central.sqlite3" if engine == "sqlite" else pg.fresh_database(f"bench_{i}_{len(runs[cfg])}")
            prepare(database, n)
            port = free_port()
            server = start_server(database, workers, port, fast_intake=intake == "pg_intake", freeze=freeze)
            try:
                m = run_load(f"http://127.0.0.1:{port}", n, args.seconds, communes, server.pid, client,
                             postmaster_pid(pg) if engine == "postgresql" else None)
            finally:
                server.terminate()
                server.wait(30)
            lat = m["lat"]
            full = [a for a, _ in lat]
            post = [b for _, b in lat]
            total = max(1, len(lat))
            row = {"n": len(lat), "elapsed": m["elapsed"], "rate": len(lat) / args.seconds, "errors": len(m["errors"]),
                   "server_cpu_ms": m["server_cpu"] * 1000 / total, "gen_cpu_ms": m["gen_cpu"] * 1000 / total,
                   "pg_cpu_ms": m["pg_cpu"] * 1000 / total if engine == "postgresql" else None,
                   "busy_ms": m["busy"] * 1000 / total, "busy_cores": m["busy"] / args.seconds,
                   "p50": pct(full, 50) * 1000, "p99": pct(full, 99) * 1000,
                   "post_p50": pct(post, 50) * 1000, "post_p99": pct(post, 99) * 1000}
            print(*cfg, {k: round(v, 1) for k, v in row.items() if v is not None}, flush=True)
            runs[cfg].append(row)
    finally:
        if pg is not None:
            pg.stop()
    rows = []
    for cfg, done in runs.items():
        if not done:
            rows.append((cfg, None, reason or "no run"))
            continue
        ranked = sorted(done, key=lambda r: r["rate"])
        row = dict(ranked[(len(ranked) - 1) // 2])  # the median run (the lower one of an even count)
        row["all_rates"] = [r["rate"] for r in done]
        rows.append((cfg, row, ""))
    write(rows, args)
    return 0


def _uvicorn_stack() -> str:
    import importlib.util

    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return f"{http}, {loop}"


def _ms(v) -> str:
    return "–" if v is None else f"{v:.1f}"


def write(rows, args):
    cmd = ("python bench/bench_central.py" + (f" --seconds {args.seconds:g}" if args.seconds != 8.0 else "")
           + (" --quick" if args.quick else "") + (f" --repeat {args.repeat}" if args.repeat != 3 else ""))
    lines = [
        "## Central intake (issue 8)",
        "",
        f"Command: `{cmd}` — {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores shared with the load generator "
        f"and other jobs (load average at the end: {os.getloadavg()[0]:.1f}).",
        "",
        "One dossier = `PUT /api/v1/attachments/{sha256}` (2 KiB) + `POST /api/v1/dossiers`, each kiosk with its own "
        "credentials (HTTP Basic) on its own keep-alive connection, 2 load processes; dossiers spread over 60 communes of "
        f"Hà Nội. Server: uvicorn ({_uvicorn_stack()}) + FastAPI, each configuration in a fresh database. SQLite in WAL with "
        "synchronous=FULL; PostgreSQL 15 with its default durable settings (fsync, synchronous_commit on).",
        "",
        "- **intake** `sqlalchemy`: SQLAlchemy Core in a worker thread, 7 round trips per dossier (BEGIN, replay check, "
        "attachment check, counter upsert, 2 inserts, COMMIT) and 4 per attachment; the only path for SQLite. "
        "`pg_intake`: `central.pg_intake`, one statement per request on the event loop (async psycopg, prepared), the "
        "dossier stored by the PL/pgSQL function `central_submit_v1` in one transaction.",
        "- **client** `requests`: one thread and `requests.Session` per kiosk (what `kiosk.client` uses). `raw`: one "
        "coroutine per kiosk writing the same two HTTP/1.1 requests on a keep-alive socket (uvloop), so the generator "
        "takes less of the shared CPU.",
        "- **frozen heap**: `central.server.settle_process` (routing data loaded at start, then `gc.freeze()`); without it "
        "each full garbage collection walked the whole heap, pausing the worker for up to ~160 ms.",
        "- CPU columns are CPU milliseconds per dossier over the measured window: the uvicorn process(es), the load "
        "generator, PostgreSQL's postmaster and backends, and the whole machine (all processes, other jobs included; "
        "2 cores = 2000 ms per second).",
        f"- The list ran {args.repeat}× in turn (old and new side by side each time, fresh database each run); a row "
        "shows the run with the median rate, and every run's rate in the last column.",
        "",
        "| database | server workers | kiosks | intake | client | frozen heap | dossiers | dossiers/s | p50 ms (PUT+POST) | p99 ms (PUT+POST) | p50 ms (POST) | p99 ms (POST) | errors | server CPU | generator CPU | PostgreSQL CPU | machine CPU | machine busy (cores) | dossiers/s, each run |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (engine, w, n, intake, client, freeze), row, reason in rows:
        fr = "yes" if freeze else "no"
        if row is None:
            lines.append(f"| {engine} | {w} | {n} | {intake} | {client} | {fr} | skipped: {reason} | | | | | | | | | | | | |")
            continue
        lines.append(f"| {engine} | {w} | {n} | {intake} | {client} | {fr} | {row['n']} | {row['rate']:.0f} | {row['p50']:.1f} | {row['p99']:.1f} | "
                     f"{row['post_p50']:.1f} | {row['post_p99']:.1f} | {row['errors']} | {_ms(row['server_cpu_ms'])} | "
                     f"{_ms(row['gen_cpu_ms'])} | {_ms(row['pg_cpu_ms'])} | {_ms(row['busy_ms'])} | {row['busy_cores']:.2f} | {' / '.join(f'{r:.0f}' for r in row['all_rates'])} |")

    def best(pred):
        rated = [(cfg, r) for cfg, r, _ in rows if r and pred(cfg)]
        return max(rated, key=lambda cr: cr[1]["rate"], default=(None, None))

    _, old = best(lambda c: c[0] == "postgresql" and c[3] == "sqlalchemy" and c[4] == "requests" and not c[5])
    _, new = best(lambda c: c[0] == "postgresql" and c[3] == "pg_intake" and c[4] == "raw" and c[5])
    if old and new:
        lines += ["", f"New / old on PostgreSQL in this run (median runs of the fastest `pg_intake`+`raw`+frozen and the "
                      f"fastest `sqlalchemy`+`requests` configuration, i.e. the code before this tuning): "
                      f"{new['rate'] / old['rate']:.2f}× the throughput ({new['rate']:.0f} vs {old['rate']:.0f} dossiers/s), "
                      f"p99 {new['p99']:.0f} vs {old['p99']:.0f} ms, server CPU {new['server_cpu_ms']:.2f} vs "
                      f"{old['server_cpu_ms']:.2f} ms per dossier."]
    meeting = [(cfg, r) for cfg, r, _ in rows if r and cfg[0] == "postgresql" and r["rate"] >= 500 and r["p99"] < 200]
    goal_cfg, goal = max(meeting, key=lambda cr: cr[1]["rate"]) if meeting else best(lambda c: c[0] == "postgresql")
    if goal:
        lines += ["", f"Goal (≥ 500 dossiers/s on PostgreSQL with p99 < 200 ms): **{'met' if meeting else 'not met'}** — "
                      f"{'best configuration meeting it' if meeting else 'fastest PostgreSQL configuration'}: "
                      f"{goal_cfg[1]} worker(s), {goal_cfg[2]} kiosks, {goal_cfg[3]} + {goal_cfg[4]}{' + frozen heap' if goal_cfg[5] else ''}: median run "
                      f"{goal['rate']:.0f} dossiers/s, p99 {goal['p99']:.0f} ms (runs: "
                      f"{' / '.join(f'{r:.0f}' for r in goal['all_rates'])} dossiers/s)."]
    if new:
        per = new["server_cpu_ms"] + new["gen_cpu_ms"] + (new["pg_cpu_ms"] or 0)
        lines += ["", f"CPU budget of the best new configuration: server {new['server_cpu_ms']:.2f} + generator "
                      f"{new['gen_cpu_ms']:.2f} + PostgreSQL {new['pg_cpu_ms']:.2f} = {per:.2f} ms per dossier, so the two "
                      f"cores given wholly to this work would cap near {2000 / per:.0f} dossiers/s; the machine as a whole "
                      f"was busy {new['busy_cores']:.2f} of 2 cores during that run (the rest of the difference is other jobs "
                      "and the kernel's network and disk work)."]
    write_results("central", lines)


if __name__ == "__main__":
    sys.exit(main())
