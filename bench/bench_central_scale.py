"""Central scale-out (issue 17 part 7): dossier intake through HAProxy to two central instances
on one PostgreSQL database, next to one instance, on the same machine in the same run.

Placements (each in a fresh database, the same 16 kiosks, one kiosk = one keep-alive connection):

- ``1 instance``: one uvicorn process (``central.asgi:app_from_env``), the kiosks straight to it;
- ``1 instance, 2 workers``: ``uvicorn --workers 2``, the kernel spreads the connections;
- ``HAProxy → 1 instance``: the balancer's own cost;
- ``HAProxy → 2 instances``: two separate processes behind the balancer (what a province runs
  on two machines; here on the same 2 cores).

Two load generators: ``kiosk.client`` (the kiosk's real client, ``CentralClient`` on
``requests``, one thread per kiosk) and ``raw`` (bench_central.py's lean asyncio generator). The
HAProxy configuration is ``testkit.central.haproxy_config`` (the one the scale-out test runs and
docs/central.md shows). Then a 1 GiB body through the balancer: how much went in before the
answer, and the balancer's memory. Writes bench/results/central_scale.md.

    python bench/bench_central_scale.py [--seconds 6] [--repeat 3]
"""
from __future__ import annotations

import argparse
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

import bench_central as bc  # noqa: E402 - the generator, CPU accounting and server start of bench_central.py

KIOSKS = 16
# central.asgi logs every dossier at INFO to stderr, which bench_central.start_server pipes and never
# reads: a full pipe would stall the server mid-run
os.environ.setdefault("CENTRAL_LOG_LEVEL", "WARNING")
PLACEMENTS = [  # (label, instances, uvicorn workers per instance, through HAProxy)
    ("1 instance", 1, 1, False),
    ("1 instance, 2 workers", 1, 2, False),
    ("HAProxy → 1 instance", 1, 1, True),
    ("HAProxy → 2 instances", 2, 1, True),
]
CLIENTS = ["kiosk.client", "raw"]
BODY_TRIES = 10  # each 1 GiB case this many times: a chunked refusal's answer can be lost (see the table)


def _kiosk_client_thread(url, kiosk_id, communes, start, deadline, out, errors):
    """One kiosk with the kiosk's own client: ``upload_attachment`` then ``submit``."""
    from kiosk.client import CentralClientError, CentralClient

    client = CentralClient(url, kiosk_id, bc.SECRET, timeout=30)
    for d, files in bc._dossiers(kiosk_id, communes, deadline):
        t0 = time.monotonic()
        try:
            for sha, data in files.items():
                client.upload_attachment(sha, data)
            t1 = time.monotonic()
            result = client.submit(d)
            t2 = time.monotonic()
            if result.result == "created":
                if t0 >= start:
                    out.append((t2 - t0, t2 - t1))
            else:
                errors.append(result.result)
        except CentralClientError as exc:
            errors.append(exc.code or type(exc).__name__)
    client.close()


def _load_process(url, kiosk_ids, communes, start, seconds, queue, client):
    deadline = start + seconds
    out, errors = [], []
    if client == "raw":
        threads = [threading.Thread(target=bc._raw_process_main, args=(url, kiosk_ids, communes, start, deadline, out, errors))]
    else:
        threads = [threading.Thread(target=_kiosk_client_thread, args=(url, k, communes, start, deadline, out, errors))
                   for k in kiosk_ids]
    [t.start() for t in threads]
    time.sleep(max(0.0, start - time.monotonic()))
    cpu0 = time.process_time()
    [t.join() for t in threads]
    queue.put((out, errors, time.process_time() - cpu0))


def run_load(url, seconds, communes, client, server_pids, balancer_pid, pg_pid):
    """bench_central.run_load with CPU per group of processes: the instances, the balancer, the
    generator, PostgreSQL and the whole machine, over the measured window only."""
    ids = [f"BENCH-{i:03d}" for i in range(KIOSKS)]
    queue = mp.Queue()
    start = time.monotonic() + bc.WARMUP_S
    procs = [mp.Process(target=_load_process, args=(url, ids[p::2], communes, start, seconds, queue, client)) for p in range(2)]
    [p.start() for p in procs]

    def cpu():
        return (sum(bc.process_cpu_s(p) for p in server_pids), bc.process_cpu_s(balancer_pid) if balancer_pid else 0.0,
                bc.process_cpu_s(pg_pid) if pg_pid else 0.0, bc.machine_busy_s())

    time.sleep(max(0.0, start - time.monotonic()))
    before = cpu()
    time.sleep(max(0.0, start + seconds - time.monotonic()))
    after = cpu()
    results = [queue.get() for _ in procs]
    [p.join() for p in procs]
    server, balancer, pg, busy = (b - a for a, b in zip(before, after))
    return {"lat": [x for out, _, _ in results for x in out], "errors": [e for _, errs, _ in results for e in errs],
            "server_cpu": server, "lb_cpu": balancer, "pg_cpu": pg, "busy": busy,
            "gen_cpu": sum(c for _, _, c in results)}


def one_run(pg, placement, client, seconds, communes, tag):
    from testkit.central import Balancer, free_port

    label, instances, workers, balanced = placement
    database = pg.fresh_database(f"scale_{tag}")
    bc.prepare(database, KIOSKS)
    servers, balancer = [], None
    folder = tempfile.mkdtemp(prefix="bench-scale-")
    try:
        for _ in range(instances):
            port = free_port()
            servers.append((bc.start_server(database, workers, port), f"http://127.0.0.1:{port}"))
        url = servers[0][1]
        if balanced:
            balancer = Balancer([u for _, u in servers], folder=folder).start()
            url = balancer.url
        m = run_load(url, seconds, communes, client, [p.pid for p, _ in servers], balancer.pid if balancer else None,
                     bc.postmaster_pid(pg))
    finally:
        if balancer is not None:
            balancer.stop()
        for proc, _ in servers:
            proc.terminate()
        for proc, _ in servers:
            proc.wait(30)
    lat = m["lat"]
    total = max(1, len(lat))
    full, post = [a for a, _ in lat], [b for _, b in lat]
    per = lambda s: s * 1000 / total  # noqa: E731 - CPU ms per dossier
    return {"n": len(lat), "rate": len(lat) / seconds, "errors": len(m["errors"]), "error_kinds": sorted(set(map(str, m["errors"])))[:5],
            "p50": bc.pct(full, 50) * 1000, "p99": bc.pct(full, 99) * 1000,
            "post_p50": bc.pct(post, 50) * 1000, "post_p99": bc.pct(post, 99) * 1000,
            "server_cpu_ms": per(m["server_cpu"]), "lb_cpu_ms": per(m["lb_cpu"]) if balanced else None,
            "gen_cpu_ms": per(m["gen_cpu"]), "pg_cpu_ms": per(m["pg_cpu"]), "busy_ms": per(m["busy"]),
            "busy_cores": m["busy"] / seconds}


def huge_bodies(pg) -> list[tuple]:
    """A 1 GiB body through HAProxy to two instances: the answer, how much went in before it, and
    the balancer's and the instances' peak memory over idle."""
    from central import limits
    from testkit.central import Balancer, basic_auth, free_port, reset_peak_rss, rss_kib, stream_request

    database = pg.fresh_database("scale_bodies")
    bc.prepare(database, 1)
    ports = [free_port(), free_port()]
    servers = [bc.start_server(database, 1, p) for p in ports]
    auth = basic_auth("BENCH-000", bc.SECRET)
    att = "/api/v1/attachments/" + "0" * 64
    cases = [("dossier, authenticated", "POST", "/api/v1/dossiers", auth, limits.MAX_DOSSIER_BYTES),
             ("attachment, authenticated", "PUT", att, auth, limits.MAX_ATTACHMENT_BYTES),
             ("heartbeat, no credentials", "POST", "/api/v1/kiosks/BENCH-000/heartbeat", {}, limits.MAX_HEARTBEAT_BYTES)]
    rows = []
    try:
        with Balancer([f"http://127.0.0.1:{p}" for p in ports], folder=tempfile.mkdtemp(prefix="bench-scale-")) as lb:
            pids = [lb.pid] + [s.pid for s in servers]
            stream_request(lb.url, "POST", "/api/v1/dossiers", 1 << 20, headers=auth)  # warm up both paths
            for what, method, path, headers, limit in cases:
                for chunked in (False, True):
                    answers, sent, lb_idle, lb_growth, inst_growth = {}, [], [], [], []
                    for _ in range(BODY_TRIES):
                        idle = {p: rss_kib(p) for p in pids}
                        for p in pids:
                            reset_peak_rss(p)
                        a = stream_request(lb.url, method, path, 1 << 30, headers=headers, chunked=chunked)
                        growth = {p: (rss_kib(p, "VmHWM") - idle[p]) / 1024 for p in pids}
                        by = "HAProxy" if a.status is not None and a.headers.get("server") != "uvicorn" else "instance"
                        key = f"{a.status} ({by})" if a.status is not None else "no answer (closed)"
                        answers[key] = answers.get(key, 0) + 1
                        sent.append(a.sent / (1 << 20))
                        lb_idle.append(idle[lb.pid] / 1024)
                        lb_growth.append(growth[lb.pid])
                        inst_growth.append(max(growth[p] for p in pids[1:]))
                    rows.append((what, "chunked" if chunked else "Content-Length", limit, answers,
                                 max(sent), max(lb_idle), max(lb_growth), max(inst_growth)))
    finally:
        for s in servers:
            s.terminate()
            s.wait(30)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=6.0, help="load duration per configuration")
    ap.add_argument("--repeat", type=int, default=3, help="run the whole list this many times, interleaved (median run shown)")
    args = ap.parse_args(argv)

    from flows import units
    from testkit.central import PostgresCluster, haproxy_available, postgres_available

    reason = postgres_available() or haproxy_available()
    configs = [(p, c) for c in CLIENTS for p in PLACEMENTS]
    runs: dict[tuple, list] = {cfg: [] for cfg in configs}
    bodies: list[tuple] = []
    if not reason:
        communes = [c.code for c in units.communes("01")][:60]
        pg = PostgresCluster().start()  # durable defaults (fsync, synchronous_commit), as bench_central.py
        try:
            for r in range(args.repeat):
                for i, cfg in enumerate(configs):
                    row = one_run(pg, cfg[0], cfg[1], args.seconds, communes, f"{r}_{i}")
                    print(cfg[0][0], cfg[1], {k: (round(v, 1) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
                    runs[cfg].append(row)
            bodies = huge_bodies(pg)
        finally:
            pg.stop()
    write(runs, bodies, args, reason)
    return 0


def _ms(v) -> str:
    return "–" if v is None else f"{v:.2f}"


def write(runs, bodies, args, reason):
    cmd = ("python bench/bench_central_scale.py" + (f" --seconds {args.seconds:g}" if args.seconds != 6.0 else "")
           + (f" --repeat {args.repeat}" if args.repeat != 3 else ""))
    haproxy = subprocess.run(["haproxy", "-v"], capture_output=True, text=True).stdout.split("\n")[0] if not reason else "–"
    lines = [
        "## Central scale-out: two instances behind HAProxy (issue 17 part 7)",
        "",
        f"Command: `{cmd}` — {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores shared by the instances, HAProxy, "
        f"PostgreSQL and the load generator (load average at the end: {os.getloadavg()[0]:.1f}). {haproxy.strip()}.",
        "",
        f"One dossier = `PUT` of a 2 KiB attachment + `POST /api/v1/dossiers` (as in bench_central.py), {KIOSKS} kiosks, each "
        "with its own credentials on its own keep-alive connection, 2 load processes, PostgreSQL 15 with its durable defaults "
        "and the `pg_intake` path, uvicorn processes with the frozen heap (`central.asgi:app_from_env`).",
        "",
        "- **placement** `1 instance`: the kiosks straight to one uvicorn process. `1 instance, 2 workers`: `uvicorn --workers 2` "
        "(the kernel spreads connections). `HAProxy → 1 instance`: the balancer's own cost. `HAProxy → 2 instances`: two "
        "separate server processes behind HAProxy, balanced per request (round robin), with the configuration of "
        "`testkit.central.haproxy_config` (docs/central.md, \"Running more than one instance\").",
        "- **client** `kiosk.client`: the kiosk's own `CentralClient` (`requests`), one thread per kiosk. `raw`: bench_central.py's "
        "asyncio generator (the same two requests on a keep-alive socket, less CPU).",
        "- CPU columns: CPU ms per dossier over the measured window, for the central instance(s), HAProxy, the generator, "
        "PostgreSQL and the whole machine (2 cores = 2000 ms per second).",
        f"- The list ran {args.repeat}× in turn; a row shows the run with the median rate, and every run's rate in the last column.",
        "",
    ]
    if reason:
        lines += [f"Skipped: {reason}."]
        write_results("central_scale", lines)
        return
    lines += [
        "| placement | client | dossiers | dossiers/s | p50 ms (PUT+POST) | p99 ms (PUT+POST) | p50 ms (POST) | p99 ms (POST) | errors "
        "| central CPU | HAProxy CPU | generator CPU | PostgreSQL CPU | machine CPU | machine busy (cores) | dossiers/s, each run |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    med = {}
    for (placement, client), done in runs.items():
        ranked = sorted(done, key=lambda r: r["rate"])
        row = ranked[(len(ranked) - 1) // 2]
        med[(placement[0], client)] = row
        rates = " / ".join(f"{r['rate']:.0f}" for r in done)
        lines.append(f"| {placement[0]} | {client} | {row['n']} | {row['rate']:.0f} | {row['p50']:.1f} | {row['p99']:.1f} | "
                     f"{row['post_p50']:.1f} | {row['post_p99']:.1f} | {row['errors']}"
                     f"{' (' + ', '.join(row['error_kinds']) + ')' if row['errors'] else ''} | {_ms(row['server_cpu_ms'])} | "
                     f"{_ms(row['lb_cpu_ms'])} | {_ms(row['gen_cpu_ms'])} | {_ms(row['pg_cpu_ms'])} | {_ms(row['busy_ms'])} | "
                     f"{row['busy_cores']:.2f} | {rates} |")
    lines += [""]
    for client in CLIENTS:
        one, lb1, lb2 = med[("1 instance", client)], med[("HAProxy → 1 instance", client)], med[("HAProxy → 2 instances", client)]
        lines.append(
            f"- `{client}`: HAProxy → 2 instances / 1 instance: **{lb2['rate'] / one['rate']:.2f}×** the throughput "
            f"({lb2['rate']:.0f} vs {one['rate']:.0f} dossiers/s), p99 {lb2['p99']:.0f} vs {one['p99']:.0f} ms; "
            f"HAProxy → 1 instance / 1 instance: {lb1['rate'] / one['rate']:.2f}× (p99 {lb1['p99']:.0f} vs {one['p99']:.0f} ms), "
            f"HAProxy's CPU {lb2['lb_cpu_ms']:.2f} ms per dossier.")
    two = med[("HAProxy → 2 instances", "raw")]
    budget = two["server_cpu_ms"] + two["lb_cpu_ms"] + two["pg_cpu_ms"] + two["gen_cpu_ms"]
    lines += [
        "",
        "On one 2-core machine a second instance adds no cores: the instances, HAProxy, PostgreSQL and the generator share "
        "the same two (see *machine busy*), so these rows measure what the balancer and a second process cost and that "
        "nothing fails (errors), not a gain. CPU per dossier in the `HAProxy → 2 instances`/`raw` row: central "
        f"{two['server_cpu_ms']:.2f} + HAProxy {two['lb_cpu_ms']:.2f} + PostgreSQL {two['pg_cpu_ms']:.2f} + generator "
        f"{two['gen_cpu_ms']:.2f} = {budget:.2f} ms, about {2000 / budget:.0f} dossiers/s if two cores did nothing else. "
        "With the instances on machines of their own, their share leaves this one; what every instance shares is "
        f"PostgreSQL ({two['pg_cpu_ms']:.2f} ms of CPU and one WAL flush per dossier).",
        "",
        "A 1 GiB body through HAProxy → 2 instances (raw socket, as bench_central_limits.py; **sent**: body bytes on the wire "
        "before the answer, socket buffers of both hops included; a declared size over the endpoint's limit is refused by "
        "HAProxy itself with central's 413 body, a chunked one streams to an instance, which counts and refuses it):",
        "",
        f"| request | body | limit | answers in {BODY_TRIES} tries (by) | sent MiB, most | HAProxy idle MiB | HAProxy peak − idle MiB, most "
        "| instances' peak − idle MiB, most |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for what, body, limit, answers, sent, lb_idle, lb_growth, inst_growth in bodies:
        lim = f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit >> 10} KiB"
        told = ", ".join(f"{k} ×{n}" for k, n in sorted(answers.items(), key=lambda kv: -kv[1]))
        lines.append(f"| {what} | {body} | {lim} | {told} | {sent:.1f} | {lb_idle:.1f} | {lb_growth:+.1f} | {inst_growth:+.1f} |")
    worst = max((max(r[6], r[7]) for r in bodies), default=0.0)
    lost = sum(r[3].get("no answer (closed)", 0) for r in bodies)
    chunked = sum(BODY_TRIES for r in bodies if r[1] == "chunked")
    lines += ["", f"Largest peak over idle: {worst:+.1f} MiB (the issue's bound for the server: 50 MiB); HAProxy holds at most "
                  "its fixed buffers (tune.bufsize, 16 KiB per direction and stream). Declared sizes: always HAProxy's own 413. "
                  f"Chunked bodies: {lost} of {chunked} refusals reached the client as a closed connection without an answer: the "
                  "instance answers and closes with the body unread, its kernel resets the connection, and HAProxy drops an "
                  "answer it had not read yet (its log: `SD`, status -1). The kiosk client sends a Content-Length."]
    write_results("central_scale", lines)


if __name__ == "__main__":
    sys.exit(main())
