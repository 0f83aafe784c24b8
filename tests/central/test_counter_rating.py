"""The rating tablet at a counter (issue 19) over real HTTP, on SQLite and PostgreSQL: a ticket
served at a counter is asked about on that counter's page and rated once, with the counter and the
ticket's service; anything else (unknown counter or centre, a ticket not served, served at another
counter or too long ago, a second rating, hostile bodies) is a 4xx refusal and stores nothing."""
import threading
import time
import uuid as uuidlib

import pytest
import requests
from sqlalchemy import func, select

from central.db import ratings as ratings_table
from central.queue import Queue
from central.ratings import Ratings
from central.service import KioskIdentity
from testkit.central import KIOSK_ID, PERSONAL_STRINGS

CENTRE = "00004"  # the kiosk start_central registers stands in Phường Ba Đình
KIOSK = KioskIdentity(KIOSK_ID, "01", CENTRE)


@pytest.fixture
def queue(server):
    q = Queue(server.central)
    q.add_counter(CENTRE, "2", "Quầy 2 — Hộ tịch", [])
    q.add_counter(CENTRE, "3", "Quầy 3", [])
    return q


def served(q: Queue, counter: str = "2", service: str = "ho-tich", name: str = "Hộ tịch") -> dict:
    q.take_ticket(KIOSK, str(uuidlib.uuid4()), service, name)
    t = q.call_next(CENTRE, counter, by="can-bo-lan")
    return q.finish(CENTRE, t["id"], "served", by="can-bo-lan")


def rate(url: str, counter: str = "2", centre: str = CENTRE, **body) -> requests.Response:
    return requests.post(f"{url}/rate/{centre}/{counter}", json=body, timeout=30)


def stored(server) -> list:
    with server.central.engine.connect() as conn:
        return conn.execute(select(ratings_table)).mappings().all()


def test_a_ticket_served_at_the_counter_is_asked_about_and_rated_once(server, queue):
    page = requests.get(f"{server.url}/rate/{CENTRE}/2", timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "Quầy 2 — Hộ tịch" in page.text and "Cảm ơn Quý khách đã đến" in page.text
    assert '<script src="/rate/static/rate.js" defer></script>' in page.text and "<script>" not in page.text
    for words in ("Rất hài lòng", "Hài lòng", "Bình thường", "Chưa hài lòng", "Very satisfied"):
        assert words in page.text
    assert requests.get(f"{server.url}/rate/static/rate.js", timeout=10).status_code == 200
    assert requests.get(f"{server.url}/rate/static/rate.css", timeout=10).headers["content-type"].startswith("text/css")

    nothing = requests.get(f"{server.url}/rate/{CENTRE}/2/served", timeout=10).json()
    assert nothing["result"] == "ok" and nothing["served"] is None
    t = served(queue)
    body = requests.get(f"{server.url}/rate/{CENTRE}/2/served", params={"since": nothing["last_id"]}, timeout=10).json()
    assert body["served"] == {"ticket_id": t["id"], "number": t["number"], "counter_name": "Quầy 2 — Hộ tịch",
                              "served_at": body["served"]["served_at"]}
    assert body["last_id"] > nothing["last_id"]
    # the other counter's tablet has nothing to ask
    assert requests.get(f"{server.url}/rate/{CENTRE}/3/served", timeout=10).json()["served"] is None

    ok = rate(server.url, ticket_id=t["id"], level="good")
    assert ok.status_code == 201 and ok.json() == {"result": "ok"}, ok.text
    [row] = stored(server)
    assert (row["counter"], row["service_id"], row["level"], row["ticket_id"], row["centre"]) == ("2", "ho-tich", "good", t["id"], CENTRE)
    assert row["reason"] == "" and row["kiosk_id"] == ""
    # rated: the tablet no longer asks about it, and a second rating is refused, whatever its level
    assert requests.get(f"{server.url}/rate/{CENTRE}/2/served", timeout=10).json()["served"] is None
    for level in ("good", "bad"):
        again = rate(server.url, ticket_id=t["id"], level=level)
        assert again.status_code == 409 and again.json()["error"] == "already_rated", again.text
    assert len(stored(server)) == 1

    # the console's summary has it under the counter, by name, and the service by name
    s = Ratings(server.central).summary(CENTRE, t["day"], t["day"])
    assert [(c["counter"], c["counter_name"], c["count"]) for c in s["by_counter"]] == [("2", "Quầy 2 — Hộ tịch", 1)]
    assert [(r["service_id"], r["service_name"]) for r in s["by_service"]] == [("ho-tich", "Hộ tịch")]


def test_two_taps_at_once_store_one_rating(server, queue):
    t = served(queue)
    answers = []
    go = threading.Barrier(6)

    def tap(level):
        go.wait()
        answers.append(rate(server.url, ticket_id=t["id"], level=level).status_code)

    threads = [threading.Thread(target=tap, args=(lv,)) for lv in ("good", "bad", "ok", "very_good", "good", "bad")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(answers) == [201, 409, 409, 409, 409, 409], answers
    assert len(stored(server)) == 1


def test_the_database_itself_holds_one_rating_per_ticket(server, queue):
    t = served(queue)
    assert rate(server.url, ticket_id=t["id"], level="ok").status_code == 201
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), server.central.engine.begin() as conn:
        conn.execute(ratings_table.insert().values(uuid=str(uuidlib.uuid4()), kiosk_id="", centre=CENTRE, level="bad",
                                                   reason="", service_id="", counter="2", rated_at="x", day="x",
                                                   received_at="x", content_sha256="x", ticket_id=t["id"]))
    # kiosk ratings have no ticket (NULL): any number of them next to it
    for _ in range(2):
        assert Ratings(server.central).record(KIOSK, str(uuidlib.uuid4()), "good", service_id="cu-tru")
    with server.central.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ratings_table)).scalar_one() == 3
    s = Ratings(server.central).summary(CENTRE, t["day"], t["day"])
    # a kiosk's rating of a service with no queue entry here reads as the field's name, not its key
    assert {r["service_id"]: r["service_name"] for r in s["by_service"]} == {"cu-tru": "Cư trú", "ho-tich": "Hộ tịch"}
    assert {r["counter"]: r["counter_name"] for r in s["by_counter"]} == {"": "", "2": "Quầy 2 — Hộ tịch"}


def test_tickets_not_served_here_or_served_too_long_ago_are_refused(server, queue, clock):
    clock.set_now("2026-12-04T09:00:00")
    queue.take_ticket(KIOSK, str(uuidlib.uuid4()), "ho-tich", "Hộ tịch")
    other = queue.finish(CENTRE, queue.call_next(CENTRE, "3", by="can-bo-lan")["id"], "served", by="can-bo-lan")
    called = queue.take_ticket(KIOSK, str(uuidlib.uuid4()), "cu-tru", "Cư trú")
    assert queue.call_next(CENTRE, "2", by="can-bo-lan")["id"] == called["id"]  # called, not served yet
    no_show = queue.take_ticket(KIOSK, str(uuidlib.uuid4()), "cu-tru", "Cư trú")
    assert queue.call_next(CENTRE, "3", by="can-bo-lan")["id"] == no_show["id"]
    queue.finish(CENTRE, no_show["id"], "no_show", by="can-bo-lan")
    for ticket_id in (other["id"], called["id"], no_show["id"], 999999):
        r = rate(server.url, ticket_id=ticket_id, level="good")
        assert r.status_code == 409 and r.json()["error"] == "not_rateable", (ticket_id, r.text)
    # served at counter 2, rated 10 minutes and a second later: too late
    queue.finish(CENTRE, called["id"], "served", by="can-bo-lan")
    clock.advance(601)
    late = rate(server.url, ticket_id=called["id"], level="good")
    assert late.status_code == 409 and late.json()["error"] == "not_rateable"
    assert requests.get(f"{server.url}/rate/{CENTRE}/2/served", timeout=10).json()["served"] is None
    # the other counter's ticket, rated on its own tablet in time, is fine
    assert stored(server) == []
    clock.set_now("2026-12-04T09:09:00")
    assert rate(server.url, counter="3", ticket_id=other["id"], level="very_good").status_code == 201
    [row] = stored(server)
    assert (row["counter"], row["service_id"]) == ("3", "ho-tich")


def test_unknown_centres_and_counters_are_404(server, queue):
    for centre, counter in (("00007", "2"), (CENTRE, "9"), ("abcde", "2"), (CENTRE, "x" * 40), ("0000", "2")):
        page = requests.get(f"{server.url}/rate/{centre}/{counter}", timeout=10)
        assert page.status_code == 404 and "Không có quầy này" in page.text, (centre, counter)
        poll = requests.get(f"{server.url}/rate/{centre}/{counter}/served", timeout=10)
        assert poll.status_code == 404 and poll.json()["error"] == "unknown_counter"
        post = rate(server.url, counter=counter, centre=centre, ticket_id=1, level="good")
        assert post.status_code == 404 and post.json()["error"] == "unknown_counter"
    assert requests.get(f"{server.url}/rate/static/../app.py", timeout=10).status_code == 404
    assert requests.get(f"{server.url}/rate/static/display.html", timeout=10).status_code == 404


def test_hostile_bodies_get_a_4xx_and_store_nothing(server, queue):
    t = served(queue)
    url = f"{server.url}/rate/{CENTRE}/2"
    bad_json = [{"ticket_id": t["id"], "level": "excellent"}, {"ticket_id": str(t["id"]), "level": "good"},
                {"ticket_id": True, "level": "good"}, {"ticket_id": -1, "level": "good"}, {"ticket_id": 2**70, "level": "good"},
                {"ticket_id": t["id"]}, {"level": "good"}, {"ticket_id": t["id"], "level": ["good"]},
                {"ticket_id": 1.5, "level": "good"}, [t["id"], "good"], "good", None,
                {"ticket_id": t["id"], "level": "Trần Thị Ngọc Ánh"}]
    for body in bad_json:
        r = requests.post(url, json=body, timeout=10)
        assert 400 <= r.status_code < 500 and r.json()["result"] == "rejected", (body, r.status_code, r.text)
        assert "Trần" not in r.text
    raw = [(b"\xff\xfe not utf-8", "application/json"), (b"{" * 5000, "application/json"),
           (b'{"ticket_id": 1, "level": "good\\u0000"}', "application/json"), (b'{"level": "\\ud800"}', "application/json"),
           (b"ticket_id=1&level=good", "text/plain"), (b"<xml/>", "application/xml"),
           (b"ticket_id=%ff&level=good", "application/x-www-form-urlencoded"),
           (b"&".join(b"a%d=1" % i for i in range(50)), "application/x-www-form-urlencoded"),
           (b"x" * 20000, "application/json"), (b"", "application/json")]
    for data, kind in raw:
        r = requests.post(url, data=data, headers={"Content-Type": kind}, timeout=10)
        assert 400 <= r.status_code < 500, (data[:40], kind, r.status_code, r.text[:200])
    # a chunked body over the limit is cut off while it is read
    r = requests.post(url, data=iter([b"[" * 4096] * 8), headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 413
    # bad query strings of the poll
    for params in ({"since": "-1"}, {"since": "abc"}, {"wait": "99"}, {"wait": "nan"}, {"since": str(2**80)}):
        r = requests.get(f"{url}/served", params=params, timeout=10)
        assert r.status_code == 422, (params, r.status_code)
    assert stored(server) == []
    # and the real rating still goes through afterwards
    assert rate(server.url, ticket_id=t["id"], level="bad").status_code == 201


def test_a_form_post_gets_a_page(server, queue):
    t = served(queue)
    url = f"{server.url}/rate/{CENTRE}/2"
    ok = requests.post(url, data={"ticket_id": str(t["id"]), "level": "very_good"}, timeout=10)
    assert ok.status_code == 201 and ok.headers["content-type"].startswith("text/html") and "Cảm ơn Quý khách!" in ok.text
    again = requests.post(url, data={"ticket_id": str(t["id"]), "level": "very_good"}, timeout=10)
    assert again.status_code == 409 and "đã được đánh giá" in again.text and again.headers["content-type"].startswith("text/html")
    bad = requests.post(url, data={"ticket_id": "một", "level": "good"}, timeout=10)
    assert bad.status_code == 422 and "Yêu cầu không hợp lệ" in bad.text
    [row] = stored(server)
    assert row["level"] == "very_good"


def test_the_long_poll_answers_within_a_second_of_the_serve_and_nothing_personal_shows(server, queue):
    queue.take_ticket(KIOSK, str(uuidlib.uuid4()), "ho-tich", "Hộ tịch", "")
    first = requests.get(f"{server.url}/rate/{CENTRE}/2/served", timeout=10).json()
    t = queue.call_next(CENTRE, "2", by="can-bo-lan")
    started = time.monotonic()
    got = {}

    def poll():
        got["r"] = requests.get(f"{server.url}/rate/{CENTRE}/2/served",
                                params={"since": first["last_id"], "wait": 10}, timeout=30)
        got["at"] = time.monotonic()

    th = threading.Thread(target=poll)
    th.start()
    time.sleep(0.8)
    assert "r" not in got  # the call is not a serve: the poll waits
    queue.take_ticket(KIOSK, str(uuidlib.uuid4()), "ho-tich", "Hộ tịch", "")
    time.sleep(0.3)
    assert "r" not in got  # another event of the centre, not a serve here
    done_at = time.monotonic()
    queue.finish(CENTRE, t["id"], "served", by="can-bo-lan")
    th.join(15)
    body = got["r"].json()
    assert body["served"]["ticket_id"] == t["id"], body
    assert got["at"] - done_at < 1.0 and got["at"] - started < 5
    page = requests.get(f"{server.url}/rate/{CENTRE}/2", timeout=10).text
    # a tablet opened within the minute after the serve still asks about it
    assert f'data-since="{body["last_id"] - 1}"' in page
    for s in PERSONAL_STRINGS:
        assert s not in page and s not in got["r"].text


def test_the_console_ratings_page_shows_the_counter_by_name_and_services_by_name(server, queue):
    from central.app import create_app
    from central.console.accounts import Accounts
    from testkit.console import login, part, text

    t = served(queue)
    assert rate(server.url, ticket_id=t["id"], level="good").status_code == 201
    Ratings(server.central).record(KIOSK, str(uuidlib.uuid4()), "ok", service_id="cu-tru")  # from a kiosk, no ticket
    Accounts(server.central).add("hung", "mat-khau-cua-hung-2026", "supervisor", CENTRE, "Trần Văn Hùng")
    page = login(create_app(server.central), "hung", "mat-khau-cua-hung-2026").get("/console/ratings")
    assert page.status_code == 200, page.text[:300]
    by_counter = text(part(page.text, "ratings-by_counter"))
    assert "Quầy 2 — Hộ tịch (quầy 2) 1 100%" in by_counter, by_counter
    assert "Tại ki-ốt (không gắn với quầy)" in by_counter
    by_service = text(part(page.text, "ratings-by_service"))
    assert "Cư trú 1" in by_service and "Hộ tịch 1" in by_service and "cu-tru" not in by_service, by_service
