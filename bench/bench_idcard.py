"""Benchmark of the chip ID card reader: APDU count, bytes, wall time and host CPU per read.

Scenarios: DG1+DG13+SOD and DG1+DG13+DG2+SOD, in-process (virtual card) and through a real pcscd
(vpcd driver + the virtual card over TCP); host CPU per APDU measured by replaying a recorded
session (so the virtual card's own crypto is not counted as host CPU); a simulated 30 ms card
latency per APDU; the negotiated READ BINARY size against a fixed 128-byte policy; and our
pure-Python EC scalar multiplication (needed for PACE-GM) against OpenSSL's ECDH via cryptography;
and passive authentication per document beside OpenSSL's `openssl cms -verify`: of the external
interoperability corpus (real passports' EF.SOD from gmrtd's tests, in KIOSK_CORPORA or
<repo>/../shared/corpora, provided by the steering repo: tests/devices/idcard/interop/README.md) when it
is there, else of the self-made vectors (tests/devices/idcard/interop/_selfmade.py); the results
section says which.

    python bench/bench_idcard.py        (or: python bench/run.py idcard)
"""
from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devices.idcard import AccessKey, open_reader  # noqa: E402
from devices.idcard.reader import CardReader  # noqa: E402
from devices.idcard.session import LADDER  # noqa: E402
from devices.idcard.transport import RecordingTransport, ReplayTransport, VirtualCardTransport  # noqa: E402

from results_io import write_results  # noqa: E402 - bench/ is the script's folder

TRUST = str(ROOT / "config" / "csca")
CMD = "python bench/bench_idcard.py"
SETS = {"DG1+DG13+SOD": ("DG1", "DG13"), "DG1+DG13+DG2+SOD": ("DG1", "DG2", "DG13")}
CARDS = {"default": "012345", "new2024": "004567"}   # extended length / short APDUs (AES SM)
RUNS = 7


def seeded(seed: str):
    import hashlib
    c = [0]

    def rng(n):
        out = b""
        while len(out) < n:
            c[0] += 1
            out += hashlib.sha256(f"{seed}:{c[0]}".encode()).digest()
        return out[:n]
    return rng


def minimum_apdus(stats) -> int:
    """Access control excluded: one SELECT plus ceil(size / block) READ BINARY per file."""
    return sum(1 + math.ceil(size / stats["block"]) for size in stats["file_sizes"].values())


def probes(log) -> int:
    return sum(1 for line in log if " SM READ BINARY" in line and "SW=6700" in line)


def file_apdus(log) -> int:
    return sum(1 for line in log if " SM SELECT" in line and "[A0000002471001]" not in line) + \
        sum(1 for line in log if " SM READ BINARY" in line)


def measure(make_reader, groups, key, active_auth=False, runs=RUNS):
    walls, cpus, result = [], [], None
    for _ in range(runs):
        reader = make_reader()
        reader.open()  # the trust store is loaded at start, not during a citizen's read
        try:
            c0, t0 = time.process_time(), time.perf_counter()
            result = reader.read(key, groups=groups, active_auth=active_auth)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        finally:
            reader.close()
    return result, statistics.median(walls), statistics.median(cpus)


class LatencyReplay(ReplayTransport):
    """Replays a recorded session; sleeps ``latency`` per APDU like a slow contactless card."""

    def __init__(self, script, latency):
        super().__init__(script)
        self.latency = latency

    def transmit(self, apdu):
        if self.latency:
            time.sleep(self.latency)
        return super().transmit(apdu)


def record(dataset, groups, key, ladder=LADDER):
    rec = RecordingTransport(VirtualCardTransport(dataset, rng=seeded("card")))
    reader = CardReader(rec, trust_store=TRUST, rng=seeded("reader"), read_sizes=ladder)
    res = reader.read(key, groups=groups, active_auth=False)
    return rec.exchanges, res


def replay_host(exchanges, groups, key, latency, ladder=LADDER, runs=3):
    walls, cpus = [], []
    for _ in range(runs):
        reader = CardReader(LatencyReplay(list(exchanges), latency), trust_store=TRUST, rng=seeded("reader"),
                            read_sizes=ladder)
        c0, t0 = time.process_time(), time.perf_counter()
        reader.read(key, groups=groups, active_auth=False)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def start_pcscd():
    from devices.idcard.errors import CardError
    from devices.idcard.pcsc import list_readers

    def up():
        try:
            return "Virtual PCD 00 00" in list_readers()
        except CardError:
            return False
    if up():
        return None
    proc = subprocess.Popen(["pcscd", "--foreground", "--error"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if up():
            return proc
        time.sleep(0.05)
    proc.terminate()
    raise RuntimeError("pcscd did not start")


def main() -> int:
    lines = ["## Chip ID card (idcard)", "",
             f"Command: `{CMD}`. Median of {RUNS} reads unless noted; clone check (DG14/DG15 + INTERNAL "
             "AUTHENTICATE) off so the sets are exactly those named. Access control is PACE-CAN "
             "(ECDH-GM, brainpoolP256r1, AES-128). `minimum` = one SELECT plus ceil(size / block) READ "
             "BINARY per file for the negotiated block; `file APDUs` = what the reader sent for the files, "
             "including the extended-length size a card without it refuses once per session (256 and 224 "
             "are skipped under AES SM: their protected answers cannot fit a short response).", ""]

    # 1. in-process
    lines += ["### In-process virtual card", "",
              "| card | set | access | block | APDUs total | file APDUs | of which refused size probes | minimum | sent B | received B | wall ms | CPU ms (reader + virtual card) |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for card, can in CARDS.items():
        for label, groups in SETS.items():
            res, wall, cpu = measure(lambda: open_reader({"backend": "sim", "dataset": card, "trust_store": TRUST}),
                                     groups, AccessKey.from_can(can))
            st = res.stats
            lines.append(f"| {card} | {label} | {res.access_control} | {st['block']} | {st['apdus']} | "
                         f"{file_apdus(res.apdu_log)} | {probes(res.apdu_log)} | {minimum_apdus(st)} | {st['bytes_sent']} | {st['bytes_received']} | "
                         f"{wall * 1000:.1f} | {cpu * 1000:.1f} |")
    lines.append("")

    # 2. through pcscd
    from devices.idcard.vcard.vpcd import VpcdCard
    proc = start_pcscd()
    try:
        lines += ["### Through pcscd (vpcd driver, virtual card over TCP)", "",
                  "| card | set | block | APDUs | wall ms | in-process wall ms | ratio pcscd / in-process |",
                  "|---|---|---|---|---|---|---|"]
        from devices.idcard.pcsc import PcscTransport
        for card, can in CARDS.items():
            vc = VpcdCard(card).start()
            for _ in range(200):
                if PcscTransport("Virtual PCD 00 00").card_present():
                    break
                time.sleep(0.05)
            for label, groups in SETS.items():
                res, wall, _ = measure(lambda: open_reader({"backend": "pcsc", "reader": "Virtual PCD 00 00",
                                                            "trust_store": TRUST}), groups, AccessKey.from_can(can))
                _, wall_ip, _ = measure(lambda: open_reader({"backend": "sim", "dataset": card, "trust_store": TRUST}),
                                        groups, AccessKey.from_can(can))
                lines.append(f"| {card} | {label} | {res.stats['block']} | {res.stats['apdus']} | {wall * 1000:.1f} | "
                             f"{wall_ip * 1000:.1f} | {wall / wall_ip:.2f} |")
            vc.stop()
            for _ in range(200):
                if not PcscTransport("Virtual PCD 00 00").card_present():
                    break
                time.sleep(0.05)
        lines.append("")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait()

    # 3. host CPU per APDU and at 30 ms card latency (replayed session: only the reader's CPU counts)
    lines += ["### Host CPU (recorded session replayed; the card costs nothing)", "",
              "| card | set | APDUs | host CPU ms | CPU µs / APDU | wall at 30 ms/APDU (ms) | host CPU % of read time (goal ≤ 5 %) |",
              "|---|---|---|---|---|---|---|"]
    for card, can in CARDS.items():
        for label, groups in SETS.items():
            exchanges, res = record(card, groups, AccessKey.from_can(can))
            _, cpu0 = replay_host(exchanges, groups, AccessKey.from_can(can), 0.0, runs=RUNS)
            wall30, cpu30 = replay_host(exchanges, groups, AccessKey.from_can(can), 0.030)
            n = len(exchanges)
            lines.append(f"| {card} | {label} | {n} | {cpu0 * 1000:.1f} | {cpu0 / n * 1e6:.0f} | {wall30 * 1000:.0f} | "
                         f"{cpu30 / wall30 * 100:.1f} % |")
    lines.append("")

    # 4. policy peer: negotiated block vs a fixed 128-byte READ BINARY, at 30 ms/APDU
    lines += ["### READ BINARY policy: negotiated vs fixed 128 bytes (30 ms per APDU, DG1+DG13+DG2+SOD)", "",
              "| card | policy | block | APDUs | wall ms | ratio fixed / negotiated |", "|---|---|---|---|---|---|"]
    groups = SETS["DG1+DG13+DG2+SOD"]
    for card, can in CARDS.items():
        ex_n, res_n = record(card, groups, AccessKey.from_can(can))
        ex_f, res_f = record(card, groups, AccessKey.from_can(can), ladder=(128,))
        w_n, _ = replay_host(ex_n, groups, AccessKey.from_can(can), 0.030, runs=1)
        w_f, _ = replay_host(ex_f, groups, AccessKey.from_can(can), 0.030, ladder=(128,), runs=1)
        lines.append(f"| {card} | negotiated | {res_n.stats['block']} | {len(ex_n)} | {w_n * 1000:.0f} | |")
        lines.append(f"| {card} | fixed 128 | 128 | {len(ex_f)} | {w_f * 1000:.0f} | {w_f / w_n:.2f} |")
    lines.append("")

    # 5. crypto peer: pure-Python EC scalar multiplication vs OpenSSL ECDH (cryptography)
    from cryptography.hazmat.primitives.asymmetric import ec as cec
    from devices.idcard.ec import BRAINPOOL_P256R1 as BP
    k = int.from_bytes(os.urandom(32), "big") % BP.n
    peer_pub = cec.generate_private_key(cec.BrainpoolP256R1()).public_key()
    mine = cec.generate_private_key(cec.BrainpoolP256R1())
    n = 50
    t0 = time.perf_counter()
    for _ in range(n):
        BP.mul(k, BP.g)
    ours = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    for _ in range(n):
        mine.exchange(cec.ECDH(), peer_pub)
    ossl = (time.perf_counter() - t0) / n
    lines += ["### EC scalar multiplication on brainpoolP256r1 (PACE-GM needs 5 per read on the reader side, chip authentication 2)", "",
              "| implementation | µs per multiplication | ratio to OpenSSL |", "|---|---|---|",
              f"| devices.idcard.ec (pure Python, Jacobian) | {ours * 1e6:.0f} | {ours / ossl:.1f} |",
              f"| OpenSSL ECDH via cryptography | {ossl * 1e6:.0f} | 1.0 |", ""]

    lines += corpus_section()
    write_results("idcard", lines)
    return 0


INTEROP = ROOT / "tests" / "devices" / "idcard" / "interop"


def passive_documents() -> tuple[str, list[tuple[str, bytes, list]]]:
    """(what was measured, [(document, EF.SOD, trusted CSCAs)]): the external corpus's real SODs when
    the corpus folder is there, else the self-made vectors of every defect class."""
    sys.path.insert(0, str(INTEROP))
    from _corpus import GMRTD, corpus

    from devices.idcard import passive

    c = corpus(GMRTD)
    env = os.environ.get("KIOSK_CORPORA", "").strip()
    where = f"{c.root}" if env else f"<repo>/../shared/corpora/{GMRTD}, KIOSK_CORPORA unset"
    if c.present:
        docs = []
        for rel in c.names("sod/*.sod"):
            cc = Path(rel).stem
            csca = f"csca/{cc.split('-')[0] if cc.startswith('DE-') else cc}.der"
            docs.append((cc, c.blob(rel), passive.load_certificates(c.blob(csca)) if csca in c.sums else []))
        return (f"the external interop corpus (real passports' EF.SOD from gmrtd's tests; present at {where})", docs)
    import _selfmade as S
    v = S.vectors()
    docs = [(name, v.sods[name], v.trust(v.issuer_of[name])) for name in S.SOD_PLAN]
    sod = v.sods["explicit_brainpool_dsc"]
    docs.append(("explicit_brainpool_dsc-last-byte-changed", sod[:-1] + bytes([sod[-1] ^ 1]), v.trust("csca_explicit")))
    return (f"the self-made vectors (tests/devices/idcard/interop/_selfmade.py: one EF.SOD per defect class, keys made "
            f"in the run); the external interop corpus was absent ({where})", docs)


def _median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def corpus_section(runs: int = 15, ossl_runs: int = 11) -> list[str]:
    """Per document: our parse + signature (+ chain) in-process, beside `openssl cms -verify`."""
    import shutil
    import tempfile

    from asn1crypto import core

    from devices.idcard import passive

    what, docs = passive_documents()
    lines = ["### Passive authentication per document (interop corpus when present, else self-made vectors)", "",
             f"Measured on {what}. "
             f"Ours: `parse_sod` + `check_signature` (+ `check_chain` against the document's CSCA), in-process, "
             f"median of {runs}. Peer: OpenSSL {_openssl_version()} `openssl cms -verify -noverify -no-CAfile -no-CApath -no-CAstore -inform DER` "
             f"(the CMS signature with the SOD's own certificate, no system trust store loaded; one process per document, median of {ossl_runs}); "
             "per-document figures are whole processes; the last row also "
             "gives `openssl cms -cmsout` of the same files (process start and parse, no verification) and the "
             "difference (OpenSSL's verification alone, within the noise of process timing on this machine). `openssl chain` = the same "
             "with `-CAfile <CSCA> -purpose any -no_check_time` (OpenSSL's X.509 verification refuses "
             "explicit EC parameters). pymrtd is not measured: it is not on PyPI, and building it from a "
             "copy of its repository is kept out of this project; OpenSSL is the peer.", "",
             "| document | ours: signature | ours: chain | ours parse+signature ms | ours +chain ms | "
             "openssl signature | openssl ms (whole process) | ratio ours parse+signature / openssl process | openssl chain |",
             "|---|---|---|---|---|---|---|---|---|"]
    openssl = shutil.which("openssl")
    ours_total = ossl_total = start_total = proc_total = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for cc, raw, trust in docs:

            def sig_only():
                return passive.check_signature(passive.parse_sod(raw))

            def full():
                sod = passive.parse_sod(raw)
                return passive.check_signature(sod), passive.check_chain(sod, trust)[0]

            sig, chain = full()
            t_sig, t_full = _median_ms(sig_only, runs), _median_ms(full, runs)
            row = f"| {cc} | {sig.status} | {chain.status if trust else 'no CSCA'} | {t_sig:.2f} | {t_full:.2f} |"
            if not openssl:
                lines.append(row + " not measured: no openssl binary | | | | |")
                continue
            p7 = Path(tmp) / f"{cc}.p7"
            p7.write_bytes(core.Asn1Value.load(raw, strict=False).contents)
            cmd = [openssl, "cms", "-verify", "-noverify", "-no-CAfile", "-no-CApath", "-no-CAstore", "-inform", "DER", "-in", str(p7), "-binary", "-out", os.devnull]
            res = subprocess.run(cmd, capture_output=True, text=True)
            ok = "ok" if res.returncode == 0 else "failed: " + _ossl_reason(res.stderr)
            t_ossl = _median_ms(lambda: subprocess.run(cmd, capture_output=True), ossl_runs)
            parse_cmd = [openssl, "cms", "-cmsout", "-inform", "DER", "-in", str(p7), "-outform", "DER", "-out", os.devnull]
            t_start = _median_ms(lambda: subprocess.run(parse_cmd, capture_output=True), ossl_runs)
            start_total += t_start
            net = max(t_ossl - t_start, 0.01)
            chain_res = "—"
            if trust:
                pem = Path(tmp) / f"{cc}.pem"
                pem.write_bytes(b"".join(b"-----BEGIN CERTIFICATE-----\n" + __import__("base64").encodebytes(c.der)
                                         + b"-----END CERTIFICATE-----\n" for c in trust))
                r2 = subprocess.run([openssl, "cms", "-verify", "-inform", "DER", "-in", str(p7), "-no-CApath", "-no-CAstore", "-CAfile", str(pem),
                                     "-purpose", "any", "-no_check_time", "-binary", "-out", os.devnull],
                                    capture_output=True, text=True)
                chain_res = "ok" if r2.returncode == 0 else "failed: " + _ossl_reason(r2.stderr)
            ours_total += t_sig
            ossl_total += net
            proc_total += t_ossl
            lines.append(f"{row} {ok} | {t_ossl:.1f} | {t_sig / t_ossl:.2f} | {chain_res} |")
    if openssl and ossl_total:
        n = len(docs)
        lines.append(f"| **all {n}, mean** | | | {ours_total / n:.2f} | | | {proc_total / n:.1f} "
                     f"(`cms -cmsout`: {start_total / n:.1f}; difference {ossl_total / n:.2f}) | "
                     f"{ours_total / proc_total:.2f} (to the difference: {ours_total / max(ossl_total, 0.01):.1f}) | |")
    lines.append("")
    return lines


def _openssl_version() -> str:
    try:
        return subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.split()[1]
    except (OSError, IndexError):
        return "(not installed)"


def _ossl_reason(stderr: str) -> str:
    for key in ("explicit ECC parameters", "unable to get issuer certificate", "signer certificate not found",
                "verification failure", "certificate verify error"):
        if key in stderr:
            return key
    return (stderr.strip().splitlines() or ["?"])[-1][-60:]


if __name__ == "__main__":
    sys.exit(main())
