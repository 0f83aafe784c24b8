"""The centre's queue (issue 19) over real HTTP and through central.queue.Queue, on SQLite and on
PostgreSQL: numbers unique per centre, service and day whatever mix of kiosks, threads and
offline blocks issues them; the officers' calls, recalls, outcomes and transfers; the wait."""
import threading
import uuid as uuidlib
from datetime import timedelta

import pytest
import requests

from central.queue import Queue
from testkit.central import KIOSK_ID, KIOSK_SECRET

AUTH = (KIOSK_ID, KIOSK_SECRET)  # registered in commune 00004 by start_central
OTHER = ("KIOSK-HN-BADINH-02", "other-kiosk-secret-5678")  # a second kiosk of the same centre
CENTRE = "00004"


def uid() -> str:
    return str(uuidlib.uuid4())


def take(url, service="ho-tich", name="Hộ tịch", auth=AUTH, u=None, **extra):
    body = {"uuid": u or uid(), "service_id": service, "service_name": name, **extra}
    return requests.post(f"{url}/api/v1/queue/tickets", json=body, auth=auth, timeout=30)


def block(url, service="ho-tich", size=5, auth=AUTH, name="Hộ tịch"):
    r = requests.post(f"{url}/api/v1/queue/blocks", json={"service_id": service, "service_name": name, "size": size},
                      auth=auth, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["block"]


def offline(url, service, day, seq, issued_at, auth=AUTH, u=None):
    body = {"uuid": u or uid(), "service_id": service, "day": day, "seq": seq, "issued_at": issued_at}
    return requests.post(f"{url}/api/v1/queue/tickets/offline", json=body, auth=auth, timeout=30)


@pytest.fixture
def two_kiosks(server):
    server.central.register_kiosk(OTHER[0], "01", CENTRE, OTHER[1])
    return server


def test_tickets_are_numbered_per_service_with_a_letter_each_and_a_replay_is_the_same_ticket(server):
    u = uid()
    first = take(server.url, u=u)
    assert first.status_code == 201, first.text
    t = first.json()["ticket"]
    assert (t["number"], t["prefix"], t["seq"], t["state"], t["origin"], t["people_ahead"]) == ("A001", "A", 1, "waiting", "online", 0)
    again = take(server.url, u=u)
    assert again.status_code == 200 and again.json()["ticket"]["id"] == t["id"] and again.json()["ticket"]["number"] == "A001"
    second = take(server.url).json()["ticket"]
    assert second["number"] == "A002" and second["people_ahead"] == 1 and second["estimated_wait_min"] == 5  # 5 min by default
    other = take(server.url, service="dat-dai", name="Đất đai").json()["ticket"]
    assert other["number"] == "B001" and other["people_ahead"] == 0
    # the same uuid for another service is not a replay
    clash = take(server.url, service="dat-dai", name="Đất đai", u=u)
    assert clash.status_code == 409 and clash.json()["error"] == "uuid_conflict"


def test_two_kiosks_issuing_tickets_at_once_never_produce_the_same_number_online_and_offline(two_kiosks):
    """Done-when of issue 19: kiosk 1 takes tickets online from 8 threads while kiosk 2 takes some
    online and prints others from its offline blocks (reported as they go): every number of the
    day is different, and the online ones skipped every reserved number."""
    url = two_kiosks.url
    numbers: list[tuple[str, str]] = []  # (number, origin)
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(10)

    def online(auth, n):
        start.wait()
        for _ in range(n):
            r = take(url, auth=auth)
            with lock:
                if r.status_code != 201:
                    errors.append(r.text)
                else:
                    numbers.append((r.json()["ticket"]["number"], "online"))

    def offline_kiosk():
        start.wait()
        for _ in range(3):
            b = block(url, auth=OTHER, size=4)
            for seq in range(b["first"], b["last"] + 1):
                from common import clock
                r = offline(url, "ho-tich", b["day"], seq, clock.now().isoformat(), auth=OTHER)
                with lock:
                    if r.status_code != 201:
                        errors.append(r.text)
                    else:
                        numbers.append((r.json()["ticket"]["number"], "offline"))

    threads = [threading.Thread(target=online, args=(AUTH, 10)) for _ in range(8)]
    threads += [threading.Thread(target=online, args=(OTHER, 10)), threading.Thread(target=offline_kiosk)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    assert len(numbers) == 90 + 12
    assert len({n for n, _ in numbers}) == len(numbers), "a number was issued twice"
    assert {o for _, o in numbers} == {"online", "offline"}
    # together they are exactly A001…A102: no gap left by a block, no number twice
    assert sorted(int(n[1:]) for n, _ in numbers) == list(range(1, 103))
    assert len(Queue(two_kiosks.central).waiting(CENTRE)) == 102


def test_offline_tickets_must_lie_in_a_block_of_this_kiosk(two_kiosks, clock):
    url = two_kiosks.url
    now = clock.now().isoformat()
    b = block(url, size=3)
    assert (b["first"], b["last"], b["prefix"]) == (1, 3, "A")
    online = take(url).json()["ticket"]
    assert online["number"] == "A004"  # online issue skips the reserved numbers
    mine = offline(url, "ho-tich", b["day"], 2, now)
    assert mine.status_code == 201 and mine.json()["ticket"]["number"] == "A002" and mine.json()["ticket"]["origin"] == "offline"
    for auth, seq, day in ((OTHER, 1, b["day"]), (AUTH, 4, b["day"]), (AUTH, 9, b["day"]),
                           (AUTH, 1, (clock.today() - timedelta(days=1)).isoformat())):
        r = offline(url, "ho-tich", day, seq, now, auth=auth)
        assert r.status_code == 409 and r.json()["error"] == "not_in_block", (auth[0], seq, day, r.text)
        assert r.json()["message_vi"]
    # a service this centre never used has no block either
    assert offline(url, "cu-tru", b["day"], 1, now).json()["error"] == "not_in_block"
    # a replay is the same ticket; the same number under another uuid is refused
    u = uid()
    assert offline(url, "ho-tich", b["day"], 3, now, u=u).status_code == 201
    replay = offline(url, "ho-tich", b["day"], 3, now, u=u)
    assert replay.status_code == 200 and replay.json()["ticket"]["number"] == "A003"
    twice = offline(url, "ho-tich", b["day"], 3, now)
    assert twice.status_code == 409 and twice.json()["error"] == "number_taken"


def test_offline_tickets_join_the_line_by_when_they_were_printed(server, clock):
    clock.freeze("2026-12-04T08:00:00")
    url = server.url
    b = block(url, size=2)
    clock.advance(60)
    later = take(url).json()["ticket"]  # 08:01 online
    printed = offline(url, "ho-tich", b["day"], 1, "2026-12-04T08:00:30+07:00").json()["ticket"]
    assert printed["people_ahead"] == 0  # printed before the online one was taken
    future = offline(url, "ho-tich", b["day"], 2, "2026-12-04T09:30:00+07:00").json()["ticket"]
    assert future["issued_at"] == "2026-12-04T08:01:00+07:00"  # a kiosk clock ahead of ours is not believed
    assert [t["number"] for t in Queue(server.central).waiting(CENTRE)] == ["A001", "A003", "A002"]
    assert later["number"] == "A003"


def test_counters_call_recall_at_most_three_times_finish_and_transfer(server, clock):
    clock.freeze("2026-12-04T08:00:00")
    q = Queue(server.central)
    for service, name in (("ho-tich", "Hộ tịch"), ("ho-tich", "Hộ tịch"), ("dat-dai", "Đất đai")):
        assert take(server.url, service, name).status_code == 201
        clock.advance(10)
    q.add_counter(CENTRE, "1", "Quầy 1", ["ho-tich"])
    q.add_counter(CENTRE, "2", "Quầy 2", [])
    assert [c["counter"] for c in q.counters(CENTRE)] == ["1", "2"]
    a1 = q.call_next(CENTRE, "1", by="lan")
    assert (a1["number"], a1["state"], a1["calls"], a1["counter"]) == ("A001", "called", 1, "1")
    with pytest.raises(Exception) as busy:
        q.call_next(CENTRE, "1", by="lan")
    assert busy.value.code == "counter_busy" and busy.value.status == 409
    assert q.recall(CENTRE, a1["id"], by="lan")["calls"] == 2
    assert q.recall(CENTRE, a1["id"], by="lan")["calls"] == 3
    with pytest.raises(Exception) as fourth:
        q.recall(CENTRE, a1["id"], by="lan")
    assert fourth.value.status == 409 and fourth.value.code == "too_many_calls"
    clock.advance(6 * 60)
    served = q.finish(CENTRE, a1["id"], "served", by="lan")
    assert served["state"] == "served" and served["finished_at"]
    with pytest.raises(Exception) as again:
        q.finish(CENTRE, a1["id"], "no_show", by="lan")
    assert again.value.code == "already_finished"
    # counter 2 calls every service: the oldest waiting is A002 (ho-tich), then B001
    a2 = q.call_next(CENTRE, "2", by="minh")
    assert a2["number"] == "A002"
    moved = q.transfer(CENTRE, a2["id"], "dat-dai", by="minh")
    assert (moved["number"], moved["service_id"], moved["state"], moved["calls"], moved["people_ahead"]) == \
        ("A002", "dat-dai", "waiting", 0, 0)  # at the head of the Đất đai line, ahead of B001
    assert [t["number"] for t in q.waiting(CENTRE)] == ["A002", "B001"]
    with pytest.raises(Exception) as jump:  # a waiting ticket cannot jump its own line
        q.transfer(CENTRE, moved["id"], "dat-dai", by="minh")
    assert jump.value.status == 409 and jump.value.code == "same_service"
    with pytest.raises(Exception) as nowhere:
        q.transfer(CENTRE, moved["id"], "cu-tru", by="minh")
    assert nowhere.value.status == 404
    # counter 1 calls ho-tich only: nobody waits there now
    assert q.call_next(CENTRE, "1", by="lan") is None
    again2 = q.call_next(CENTRE, "2", by="minh")
    assert again2["number"] == "A002" and again2["calls"] == 1
    q.finish(CENTRE, again2["id"], "no_show", by="minh")
    calls = q.recent_calls(CENTRE)
    assert [(c["number"], c["counter"], c["recall"]) for c in calls] == \
        [("A002", "2", False), ("A002", "2", False), ("A001", "1", True), ("A001", "1", True), ("A001", "1", False)]
    assert calls[0]["counter_name"] == "Quầy 2" and calls[0]["service_name"] == "Đất đai"
    assert q.recent_calls(CENTRE, since_id=calls[1]["call_id"]) == calls[:1]
    with pytest.raises(Exception) as bad_since:
        q.recent_calls(CENTRE, since_id="1; DROP TABLE queue_events")
    assert bad_since.value.status == 422
    stats = q.day_stats(CENTRE, "2026-12-04")
    by = {s["service_id"]: s for s in stats["services"]}
    assert (stats["issued"], stats["served"], stats["no_show"], stats["waiting"]) == (3, 1, 1, 1)
    assert by["ho-tich"]["mean_service_min"] == 6.0 and by["dat-dai"]["no_show"] == 1
    # another centre sees none of it
    assert q.waiting("00007") == [] and q.recent_calls("00007") == []
    with pytest.raises(Exception) as foreign:
        q.recall("00007", a1["id"], by="x")
    assert foreign.value.status == 404


def test_the_estimate_uses_measured_service_times_and_the_counters_serving(server, clock):
    clock.freeze("2026-12-04T08:00:00")
    q = Queue(server.central)
    q.add_counter(CENTRE, "1", "Quầy 1", [])
    q.add_counter(CENTRE, "2", "Quầy 2", [])
    for _ in range(6):
        take(server.url)
    # two counters serve one ticket each, 8 and 12 minutes: mean 10 min, 2 counters serving
    t1 = q.call_next(CENTRE, "1", by="a")
    t2 = q.call_next(CENTRE, "2", by="b")
    clock.advance(8 * 60)
    q.finish(CENTRE, t1["id"], "served", by="a")
    clock.advance(4 * 60)
    q.finish(CENTRE, t2["id"], "served", by="b")
    wait = requests.get(f"{server.url}/api/v1/queue/services/ho-tich/wait", auth=AUTH, timeout=30).json()
    assert wait == {"result": "ok", "people_ahead": 4, "estimated_wait_min": 20}  # 4 × 10 min ÷ 2
    # 40 minutes later nobody has served for half an hour: one counter assumed
    clock.advance(40 * 60)
    assert q.wait_for(CENTRE, "ho-tich") == {"people_ahead": 4, "estimated_wait_min": 40}
    # a service never used: nobody ahead
    assert q.wait_for(CENTRE, "cu-tru") == {"people_ahead": 0, "estimated_wait_min": 0}
    # yesterday's tickets are not today's line; the day starts at midnight Vietnam time
    clock.freeze("2026-12-05T00:00:01+07:00")
    fresh = take(server.url).json()["ticket"]
    assert (fresh["number"], fresh["day"], fresh["people_ahead"]) == ("A001", "2026-12-05", 0)


def test_refusals_are_documented_json_never_500(server):
    url = server.url
    server.central.register_kiosk("KIOSK-NO-CENTRE", "01", "", "no-centre-secret-123")
    nowhere = take(url, auth=("KIOSK-NO-CENTRE", "no-centre-secret-123"))
    assert nowhere.status_code == 409 and nowhere.json()["error"] == "no_centre" and "trung tâm" in nowhere.json()["message_vi"]
    for body in ({"uuid": "NOT-A-UUID", "service_id": "ho-tich", "service_name": "x"},
                 {"uuid": uid(), "service_id": "Hộ tịch", "service_name": "x"},
                 {"uuid": uid(), "service_id": "ho-tich", "service_name": "   "},
                 {"uuid": uid(), "service_id": "ho-tich", "service_name": "x\x00"},
                 {"uuid": uid(), "service_id": "ho-tich", "service_name": "x", "name": "Trần Thị Ngọc Ánh"}):
        r = requests.post(f"{url}/api/v1/queue/tickets", json=body, auth=AUTH, timeout=30)
        assert r.status_code == 422 and r.json()["result"] == "rejected", (body, r.text)
        assert "Trần" not in r.text
    for size in (0, 51, "5", True):
        r = requests.post(f"{url}/api/v1/queue/blocks", json={"service_id": "ho-tich", "service_name": "Hộ tịch", "size": size},
                          auth=AUTH, timeout=30)
        assert r.status_code == 422, (size, r.text)
    for day, at in (("2026-13-40", "2026-12-04T08:00:00+07:00"), ("2026-12-04", "yesterday")):
        r = offline(url, "ho-tich", day, 1, at)
        assert r.status_code == 422 and r.json()["error"] == "invalid_request", r.text
    assert take(url, auth=("nobody", "wrong")).status_code == 401
    assert requests.get(f"{url}/api/v1/queue/services/ho-tich/wait", timeout=30).status_code == 401


def test_the_same_ticket_sent_at_once_from_several_threads_is_one_ticket(server):
    """A kiosk's retry racing its first try (or an outbox sending twice): one 201, the rest 200,
    one number."""
    u = uid()
    answers = []
    start = threading.Barrier(6)

    def send():
        start.wait()
        answers.append(take(server.url, u=u))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(r.status_code for r in answers) == [200] * 5 + [201], [r.text for r in answers]
    assert {r.json()["ticket"]["number"] for r in answers} == {"A001"}
    assert take(server.url).json()["ticket"]["number"] == "A002"


def test_four_counters_calling_at_once_never_call_the_same_ticket(server):
    q = Queue(server.central)
    for n in range(4):
        q.add_counter(CENTRE, str(n + 1), f"Quầy {n + 1}", [])
    for _ in range(40):
        assert take(server.url).status_code == 201
    called: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def desk(counter):
        start.wait()
        try:
            while (t := q.call_next(CENTRE, counter, by=f"officer-{counter}")) is not None:
                called.append(t["number"])
                q.finish(CENTRE, t["id"], "served", by=f"officer-{counter}")
        except BaseException as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=desk, args=(str(n + 1),)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    assert sorted(called) == [f"A{n:03d}" for n in range(1, 41)]  # each exactly once
    assert q.day_stats(CENTRE, q.ticket(CENTRE, 1)["day"])["served"] == 40
