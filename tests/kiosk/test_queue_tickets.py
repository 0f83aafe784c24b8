"""Queue tickets from the centre's one queue (issue 19), Kivy-free: two kiosks of one centre (each
its own data folder, outbox and sync worker) against one real central system over HTTP; one of them
cut off from the network (its central URL pointing nowhere) gives numbers from its reserved block,
and reports them when the network returns. All numbers distinct; the offline ones reach central's
waiting line; an exhausted block offline gives no number, and says so."""
import threading

import pytest

from kiosk.queue_blocks import QueueBlocks
from kiosk.sync import SyncWorker
from testkit.central import free_port, start_central, wait_until

CENTRE = "00004"
SERVICE = ("ho-tich", "Hộ tịch")
NOWHERE = "http://127.0.0.1:9"  # nothing listens: the kiosk's network is down


class Kiosk:
    def __init__(self, folder, port, kiosk_id):
        from kiosk.services import KioskServices
        from kiosk.tools.demo import demo_config

        self.cfg = demo_config(folder, port=port, extra=f'[kiosk]\nid = "{kiosk_id}"\n')
        self.services = KioskServices(self.cfg)
        self.services._open_outbox()
        self.services.sync.stop()
        self.services.sync = SyncWorker(self.services.outbox, self.services.client, base_delay=0.1, max_delay=0.5,
                                        probe_interval=0.1).start()
        self.url = self.services.client.url

    def network(self, up: bool):
        self.services.client.url = self.url if up else NOWHERE
        if up:
            self.services.sync.wake()

    def close(self):
        self.services.sync.stop()
        self.services.outbox.close()


@pytest.fixture
def centre(tmp_path):
    port = free_port()
    a = Kiosk(tmp_path / "a", port, "KIOSK-HN-BADINH-01")
    b = Kiosk(tmp_path / "b", port, "KIOSK-HN-BADINH-02")
    server = start_central(str(tmp_path / "central.sqlite3"), port=port, kiosk_id="KIOSK-HN-BADINH-01",
                           secret=a.cfg["central"]["kiosk_secret"])
    server.central.register_kiosk("KIOSK-HN-BADINH-02", "01", CENTRE, b.cfg["central"]["kiosk_secret"])
    yield server, a, b
    a.close()
    b.close()
    server.stop()


def waiting_numbers(server):
    from central.queue import Queue

    return [t["number"] for t in Queue(server.central).waiting(CENTRE)]


def test_two_kiosks_one_offline_never_give_the_same_number(centre):
    server, a, b = centre
    for k in (a, b):
        assert k.services.reserve_offline_blocks([SERVICE]) == 1  # at start, while online
        assert k.services.reserve_offline_blocks([SERVICE]) == 0  # a whole block left: none more
    b.network(False)
    out = {"a": [], "b": []}

    def issue(name, kiosk):
        for _ in range(6):
            out[name].append(kiosk.services.issue_ticket(*SERVICE))

    threads = [threading.Thread(target=issue, args=(n, k)) for n, k in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    online, offline = out["a"], out["b"]
    assert all(not o.offline and o.people_ahead is not None and o.estimated_wait_min is not None for o in online)
    assert all(o.offline and o.people_ahead is None for o in offline)
    numbers = [o.number for o in online + offline]
    assert len(set(numbers)) == 12 and all(n.startswith("A") for n in numbers), numbers
    # the offline numbers are not in central's line yet; the online ones are
    assert set(waiting_numbers(server)) == {o.number for o in online}
    assert b.services.outbox.status()["messages_pending"] == 6

    b.network(True)
    assert wait_until(lambda: b.services.outbox.status()["messages_pending"] == 0, timeout=20)
    line = waiting_numbers(server)
    assert sorted(line) == sorted(numbers) and len(line) == len(set(line))
    # a number given after reconciling, by either kiosk, is still new
    later = [k.services.issue_ticket(*SERVICE).number for k in (a, b)]
    assert not set(later) & set(numbers) and len(set(later)) == 2


def test_online_ticket_says_people_ahead_and_the_wait(centre):
    server, a, _ = centre
    first = a.services.issue_ticket(*SERVICE)
    second = a.services.issue_ticket(*SERVICE)
    assert (first.people_ahead, second.people_ahead) == (0, 1)
    assert second.estimated_wait_min >= 1  # 5 minutes per person ahead until the centre has measured times
    from kiosk.services import ticket_wait_text

    assert ticket_wait_text(second) == f"Trước Quý khách còn 1 người · chờ khoảng {second.estimated_wait_min} phút"
    assert ticket_wait_text(second, "en") == f"1 person ahead of you · about {second.estimated_wait_min} minutes"
    # the first in line is told so, not "0 người · chờ khoảng 0 phút"
    assert ticket_wait_text(first) == "Chưa có ai trước Quý khách · sắp đến lượt"
    assert ticket_wait_text(first, "en") == "Nobody ahead of you · you will be called soon"
    assert not (a.services.data_dir / "queue.json").exists()  # the old per-kiosk counter is gone


def test_an_exhausted_block_offline_gives_no_number_and_says_where_to_get_one(centre):
    server, _, b = centre
    b.services._blocks = QueueBlocks(b.services.data_dir / "queue_blocks.json", size=3)
    assert b.services.reserve_offline_blocks([SERVICE]) == 1
    b.network(False)
    given = [b.services.issue_ticket(*SERVICE) for _ in range(3)]
    assert [o.offline for o in given] == [True] * 3 and len({o.number for o in given}) == 3
    none = b.services.issue_ticket(*SERVICE)
    assert none.number == "" and not none.printed
    assert "quầy tiếp nhận" in none.refused.message_vi and "reception counter" in none.refused.message_en
    # the kept block survives a restart of the kiosk (a new QueueBlocks on the same file): still none to give
    assert QueueBlocks(b.services.data_dir / "queue_blocks.json").take(SERVICE[0]) is None
    b.network(True)
    assert wait_until(lambda: b.services.outbox.status()["messages_pending"] == 0, timeout=20)
    assert sorted(waiting_numbers(server)) == sorted(o.number for o in given)


def test_a_replayed_offline_report_is_not_a_second_ticket(centre):
    """The outbox may send a report twice (an answer lost on the way): the same uuid, one ticket."""
    server, _, b = centre
    b.services.reserve_offline_blocks([SERVICE])
    b.network(False)
    t = b.services.issue_ticket(*SERVICE)
    [msg] = b.services.outbox.pending_messages()
    b.network(True)
    assert wait_until(lambda: b.services.outbox.status()["messages_pending"] == 0, timeout=20)
    again = b.services.client.report_offline_ticket(msg.body)
    assert again["number"] == t.number
    assert waiting_numbers(server) == [t.number]
