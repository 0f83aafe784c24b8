"""The waiting-room display (issue 19, Deliver 3) over real HTTP, on SQLite and PostgreSQL: the page,
the calls a counter makes (plain poll and long-poll), the spoken number (a WAV with speech in it,
served from the cache the second time), no personal data anywhere, and hostile input refused."""
import io
import os
import struct
import threading
import time
import uuid as uuidlib
import wave

import pytest
import requests

from central.queue import Queue
from central.service import KioskIdentity
from testkit.central import KIOSK_ID, PERSONAL_STRINGS, sample_dossier, start_central

CENTRE = "00004"  # the kiosk start_central registers stands in Phường Ba Đình
KIOSK = KioskIdentity(KIOSK_ID, "01", CENTRE)


@pytest.fixture
def srv(database, tmp_path, monkeypatch):
    monkeypatch.setenv("CENTRAL_SPEECH_CACHE", str(tmp_path / "speech"))
    s = start_central(database)
    yield s
    s.stop()


@pytest.fixture
def queue(srv):
    q = Queue(srv.central)
    q.add_counter(CENTRE, "3", "Quầy 3", [])
    return q


def ticket(q: Queue, service: str = "ho-tich", name: str = "Hộ tịch", dossier_code: str = "") -> dict:
    return q.take_ticket(KIOSK, str(uuidlib.uuid4()), service, name, dossier_code)


def calls(url: str, **params) -> requests.Response:
    return requests.get(f"{url}/display/{CENTRE}/calls", params=params, timeout=30)


def test_the_page_and_the_calls_show_what_a_counter_called(srv, queue):
    page = requests.get(f"{srv.url}/display/{CENTRE}", timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Phường Ba Đình" in page.text and "Chưa gọi số nào hôm nay." in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "<script src=\"/display/static/display.js\"" in page.text and "http" not in page.text.split("<body>")[0]

    t = ticket(queue)
    assert calls(srv.url).json()["calls"] == []  # issued, not called yet
    called = queue.call_next(CENTRE, "3", by="can-bo-lan")
    assert called["number"] == t["number"] == "A001"
    body = calls(srv.url, since=0).json()
    assert body["result"] == "ok" and body["centre"] == CENTRE
    [c] = body["calls"]
    assert set(c) == {"call_id", "number", "counter", "counter_name", "at", "text_vi", "speech"}
    assert (c["number"], c["counter"], c["counter_name"]) == ("A001", "3", "Quầy 3")
    assert c["text_vi"] == "Mời số A001 đến Quầy 3"
    assert c["speech"] == f"/display/{CENTRE}/speech/{c['call_id']}.wav"
    assert body["last_id"] == c["call_id"]
    # nothing new after what the display has
    assert calls(srv.url, since=c["call_id"]).json() == {"result": "ok", "centre": CENTRE, "last_id": c["call_id"], "calls": []}
    # a recall is a new call: the hall hears the number again
    queue.recall(CENTRE, called["id"], by="can-bo-lan")
    again = calls(srv.url, since=c["call_id"]).json()["calls"]
    assert [a["number"] for a in again] == ["A001"] and again[0]["call_id"] > c["call_id"]
    # the page drawn now shows the newest call big
    page = requests.get(f"{srv.url}/display/{CENTRE}", timeout=10).text
    assert '<div class="number" id="now-number">A001</div>' in page and "Mời số A001 đến Quầy 3" in page
    assert f'data-last="{again[0]["call_id"]}"' in page


def test_a_long_poll_answers_as_soon_as_a_call_is_made(srv, queue):
    ticket(queue)
    ticket(queue)
    # nothing happens: the long-poll waits its time and answers empty
    t0 = time.monotonic()
    idle = calls(srv.url, since=0, wait=0.6)
    assert idle.status_code == 200 and idle.json()["calls"] == []
    assert 0.55 < time.monotonic() - t0 < 2.0
    got: dict = {}

    def display():
        r = calls(srv.url, since=0, wait=10)
        got["at"], got["body"] = time.monotonic(), r.json()

    waiter = threading.Thread(target=display)
    waiter.start()
    time.sleep(0.5)  # the display is waiting
    called = queue.call_next(CENTRE, "3", by="can-bo-lan")
    made = time.monotonic()
    waiter.join(15)
    latency = got["at"] - made
    assert [c["number"] for c in got["body"]["calls"]] == [called["number"]]
    assert latency < 0.5, f"the display heard of the call {latency * 1000:.0f} ms after it was made"
    print(f"call → long-poll answer: {latency * 1000:.0f} ms")


def samples(data: bytes) -> list[int]:
    with wave.open(io.BytesIO(data), "rb") as w:
        raw = w.readframes(w.getnframes())
    return list(struct.unpack(f"<{len(raw) // 2}h", raw))


def test_the_spoken_number_is_speech_and_comes_from_the_cache_the_second_time(srv, queue, tmp_path):
    ticket(queue)
    queue.call_next(CENTRE, "3", by="can-bo-lan")
    [c] = calls(srv.url).json()["calls"]
    t0 = time.perf_counter()
    first = requests.get(srv.url + c["speech"], timeout=30)
    first_s = time.perf_counter() - t0
    assert first.status_code == 200 and first.headers["content-type"] == "audio/wav"
    assert first.content[:4] == b"RIFF" and first.content[8:12] == b"WAVE"
    xs = samples(first.content)
    assert sum(1 for x in xs if abs(x) > 1000) > 0.1 * len(xs)  # speech, not silence
    [cached] = list((tmp_path / "speech").glob("*.wav"))
    inode = cached.stat().st_ino
    t0 = time.perf_counter()
    second = requests.get(srv.url + c["speech"], timeout=30)
    second_s = time.perf_counter() - t0
    assert second.content == first.content
    # the same file, not rendered again (a new rendering replaces the file: a new inode)
    assert list((tmp_path / "speech").glob("*.wav")) == [cached] and cached.stat().st_ino == inode
    print(f"speech: first {first_s * 1000:.1f} ms (espeak-ng), cached {second_s * 1000:.1f} ms")
    chime = requests.get(f"{srv.url}/display/static/chime.wav", timeout=10)
    assert chime.status_code == 200 and chime.content[8:12] == b"WAVE"


def test_no_personal_data_reaches_the_display(srv, queue):
    body, files = sample_dossier(KIOSK_ID)
    for sha, data in files.items():
        srv.central.put_attachment(sha, data, KIOSK_ID)
    _created, answer = srv.central.submit(KIOSK, body)
    t = ticket(queue, dossier_code=answer["dossier_code"])
    queue.call_next(CENTRE, "3", by="can-bo-tran-thi-lan")
    seen = [requests.get(f"{srv.url}/display/{CENTRE}", timeout=10).text, calls(srv.url).text]
    for text in seen:
        assert t["number"] in text
        for secret in [*PERSONAL_STRINGS, answer["dossier_code"], answer["lookup_secret"], "can-bo-tran-thi-lan",
                       "Hộ tịch", t["uuid"], KIOSK_ID]:
            assert secret not in text


def test_hostile_or_unknown_input_is_refused_never_a_500(srv, queue):
    for path in ("/display/99999", "/display/abc", "/display/0000400", "/display/%00", "/display/" + "9" * 300):
        r = requests.get(srv.url + path, timeout=10)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), path
        assert "Không có trung tâm" in r.text
    assert "<script" not in requests.get(srv.url + "/display/<script>", timeout=10).text.lower()
    unknown = requests.get(f"{srv.url}/display/99999/calls", timeout=10)
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_centre"
    for params in ({"since": "abc"}, {"since": "-1"}, {"since": "1e400"}, {"since": str(2**70)}, {"wait": "999"},
                   {"wait": "nan"}, {"since": "1", "wait": "-1"}):
        r = calls(srv.url, **params)
        assert r.status_code == 422, params
        assert set(r.json()) >= {"result", "error", "message_vi", "message_en"} and r.json()["error"] == "invalid_request"
    for path, status in ((f"/display/{CENTRE}/speech/abc.wav", 422), (f"/display/{CENTRE}/speech/{'9' * 40}.wav", 422),
                         (f"/display/{CENTRE}/speech/999999.wav", 404), ("/display/99999/speech/1.wav", 404),
                         ("/display/static/..%2fdisplay.py", 404), ("/display/static/secrets.txt", 404)):
        r = requests.get(srv.url + path, timeout=10)
        assert r.status_code == status, (path, r.status_code, r.text[:200])
        assert r.json()["result"] == "rejected"
    # a call of another centre is not spoken here
    other = KioskIdentity("KIOSK-HN-HOANKIEM-02", "01", "00007")
    srv.central.register_kiosk(other.kiosk_id, "01", "00007", "other-kiosk-secret-5678")
    queue.add_counter("00007", "1", "Quầy 1", [])
    queue.take_ticket(other, str(uuidlib.uuid4()), "ho-tich", "Hộ tịch")
    queue.call_next("00007", "1", by="x")
    [theirs] = requests.get(f"{srv.url}/display/00007/calls", timeout=10).json()["calls"]
    assert requests.get(f"{srv.url}/display/{CENTRE}/speech/{theirs['call_id']}.wav", timeout=10).status_code == 404
    assert calls(srv.url).json()["calls"] == []


def test_without_espeak_ng_the_display_still_shows_the_number(srv, queue, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    ticket(queue)
    queue.call_next(CENTRE, "3", by="can-bo-lan")
    [c] = calls(srv.url).json()["calls"]
    assert c["number"] == "A001" and c["speech"] is None
    assert 'data-speech="off"' in requests.get(f"{srv.url}/display/{CENTRE}", timeout=10).text
    r = requests.get(f"{srv.url}/display/{CENTRE}/speech/{c['call_id']}.wav", timeout=10)
    assert r.status_code == 503 and r.json()["error"] == "speech_unavailable"
    assert requests.get(f"{srv.url}/display/static/chime.wav", timeout=10).status_code == 200
    assert os.environ["PATH"] == str(tmp_path / "no-programs-here")


def test_a_display_that_hangs_up_does_not_hold_the_server(tmp_path, monkeypatch):
    monkeypatch.setenv("CENTRAL_SPEECH_CACHE", str(tmp_path / "speech"))
    s = start_central(str(tmp_path / "central.sqlite3"))
    try:
        import socket

        conn = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        conn.sendall(f"GET /display/{CENTRE}/calls?since=0&wait=25 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        time.sleep(0.5)  # the long-poll is waiting at the server
        conn.close()  # the TV is switched off
        time.sleep(0.2)
    finally:
        t0 = time.monotonic()
        s.stop()
    # the server's shutdown waits for requests in flight: the hung-up long-poll is not one of them
    assert time.monotonic() - t0 < 3.0
