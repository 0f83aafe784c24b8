"""Network and central system: DNS, TCP, TLS (https) and the clock compared with the server's.

One connection is walked step by step so the report names the first step that broke, which is
what tells a technician whether to look at the router, the DNS server, the certificate or the clock.
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from common.health import Health, State
from kiosk.diagnostics.result import Outcome

PROBE_PATH = "/api/v1/flows"   # public, cheap, in the central contract
CLOCK_SKEW_MAX_S = 60.0        # receipts and appointment dates carry the kiosk's time
CERT_WARN_DAYS = 30


def _ms(t0: float) -> float:
    return round((time.monotonic() - t0) * 1000.0, 1)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def clock_skew(date_header: str, sent_at: float, received_at: float) -> float:
    """Local clock minus the server's, in seconds. The header has 1 s resolution and was stamped
    somewhere between send and receive, so the midpoint (plus half a second) is the fair estimate."""
    server = parsedate_to_datetime(date_header).timestamp() + 0.5
    return round((sent_at + received_at) / 2.0 - server, 1)


def check(cfg, opts) -> Outcome:
    central = cfg["central"]
    url = urlsplit(central["url"])
    host, https = url.hostname or "", url.scheme == "https"
    port = url.port or (443 if https else 80)
    timeout = float(central.get("timeout_s") or 10.0)
    facts: dict = {"url": f"{url.scheme}://{host}:{port}", "embedded": bool(central.get("embedded"))}

    t0 = time.monotonic()
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return Health(State.FAILED, f"DNS: cannot resolve {host}: {exc.strerror}",
                      "Check the network cable or Wi-Fi and the DNS server (resolvectl status / /etc/resolv.conf); "
                      "check [central].url in /etc/kiosk/kiosk.toml.", facts), "Mất kết nối mạng"
    facts["dns_ms"] = _ms(t0)
    facts["addresses"] = sorted({i[4][0] for i in infos})

    t0 = time.monotonic()
    sock = None
    last_err: OSError | None = None
    for family, kind, proto, _, addr in infos:
        try:
            sock = socket.socket(family, kind, proto)
            sock.settimeout(timeout)
            sock.connect(addr)
            break
        except OSError as exc:
            last_err = exc
            sock.close()
            sock = None
    if sock is None:
        reason = getattr(last_err, "strerror", None) or str(last_err)
        if central.get("embedded") and _is_loopback(host):
            return Health(State.NOT_READY, f"the embedded central system is not running on {host}:{port} ({reason})",
                          "It starts with the kiosk app (kiosk run --embedded-central); start the kiosk and check again.", facts)
        return Health(State.FAILED, f"TCP: cannot connect to {host}:{port}: {reason}",
                      "The central system is down or unreachable: check the network link and firewall, then call the "
                      "province's IT desk. Dossiers wait safely in the outbox meanwhile.", facts), "Không kết nối được hệ thống trung tâm"
    facts["connect_ms"] = _ms(t0)

    state, notes, action = State.OK, [], ""
    try:
        if https:
            ctx = ssl.create_default_context(cafile=central.get("ca_file") or None)
            if central.get("client_cert"):
                ctx.load_cert_chain(central["client_cert"], central.get("client_key") or None)
            t0 = time.monotonic()
            try:
                sock = ctx.wrap_socket(sock, server_hostname=host)
            except ssl.SSLCertVerificationError as exc:
                return Health(State.FAILED, f"TLS: the central system's certificate is not trusted: {exc.verify_message}",
                              "Check the date and time first (a wrong clock breaks certificates), then [central].ca_file.",
                              facts), "Lỗi chứng thư bảo mật"
            except (ssl.SSLError, OSError) as exc:
                return Health(State.FAILED, f"TLS handshake failed: {exc}",
                              "Check [central].url uses the right port and, for mutual TLS, client_cert/client_key.", facts)
            facts["tls_ms"] = _ms(t0)
            facts["tls_version"] = sock.version()
            cert = sock.getpeercert() or {}
            if cert.get("notAfter"):
                # system clock: TLS checks certificates against the machine's own clock, not the app's
                days = int((ssl.cert_time_to_seconds(cert["notAfter"]) - time.time()) // 86400)
                facts["cert_days_left"] = days
                if days < CERT_WARN_DAYS:
                    state, action = State.NEEDS_ATTENTION, "Ask the province's IT desk to renew the central system's certificate."
                    notes.append(f"its certificate expires in {days} days")

        conn = (http.client.HTTPSConnection if https else http.client.HTTPConnection)(host, port, timeout=timeout)
        conn.sock = sock  # reuse the connection just verified instead of dialling again
        sent = time.time()  # system clock: the skew check is about the machine's clock itself
        conn.request("GET", (url.path.rstrip("/") + PROBE_PATH), headers={"Host": url.netloc, "User-Agent": "kiosk-diag"})
        resp = conn.getresponse()
        received = time.time()  # system clock
        resp.read(65536)
        facts["http_status"] = resp.status
        date = resp.getheader("Date")
    except (OSError, http.client.HTTPException) as exc:
        return Health(State.FAILED, f"HTTP: no valid answer from the central system: {exc}",
                      "The central system accepts connections but does not answer: call the province's IT desk.", facts)
    finally:
        sock.close()

    if resp.status >= 500:
        state, action = State.NEEDS_ATTENTION, "The central system reports an internal error: call the province's IT desk."
        notes.append(f"it answers HTTP {resp.status}")
    if date:
        try:
            skew = clock_skew(date, sent, received)
        except (TypeError, ValueError):
            skew = None
        facts["server_date"] = date
        facts["clock_skew_s"] = skew
        if skew is not None and abs(skew) > CLOCK_SKEW_MAX_S:
            state = State.NEEDS_ATTENTION
            action = (action + " " if action else "") + (
                "Turn on time synchronisation (timedatectl set-ntp true) or set the clock (timedatectl set-time).")
            notes.append(f"the kiosk clock is {skew:+.0f} s off the central system's")
    else:
        notes.append("no Date header, clock not compared")
    detail = f"central system reachable at {host}:{port}" + (" over " + facts["tls_version"] if https else "")
    if notes:
        detail += "; " + "; ".join(notes)
    return Health(state, detail, action, facts), ("Đồng hồ máy bị lệch" if "clock_skew_s" in facts and state is State.NEEDS_ATTENTION and abs(facts["clock_skew_s"] or 0) > CLOCK_SKEW_MAX_S else "")
