"""Help calls on the kiosk (issue 18), Kivy-free: ``KioskServices.call_help`` / ``help_call_state`` /
``cancel_help_call`` with the real outbox and sync worker against the real central system over
HTTP on 127.0.0.1, which the tests stop and start on the same port to cut the network."""
from datetime import timedelta

import pytest
import requests

from kiosk.outbox import Outbox
from kiosk.sync import SyncWorker
from testkit.central import ADMIN_TOKEN, free_port, sample_dossier, start_central, wait_until

STAFF = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


class Kiosk:
    """The services of a demo kiosk (its own folder), its outbox and sync worker with short delays."""

    def __init__(self, folder):
        from kiosk.services import KioskServices
        from kiosk.tools.demo import demo_config

        self.port = free_port()
        self.cfg = demo_config(folder, port=self.port)
        self.db = str(folder / "central.sqlite3")
        self.services = KioskServices(self.cfg)
        self.services._open_outbox()
        self.services.sync.stop()
        self.services.sync = SyncWorker(self.services.outbox, self.services.client, base_delay=0.1, max_delay=0.5,
                                        probe_interval=0.1).start()
        self.central = None

    def central_up(self):
        k = self.cfg["kiosk"]
        self.central = start_central(self.db, port=self.port, kiosk_id=k["id"], secret=self.cfg["central"]["kiosk_secret"])
        return self.central

    def central_down(self):
        if self.central is not None:
            self.central.stop()
            self.central = None

    def staff_calls(self, state="open"):
        r = requests.get(f"{self.central.url}/api/v1/help-calls", params={"state": state}, headers=STAFF, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()["calls"]

    def call(self, **over):
        args = {"flow_id": "khai-sinh", "step_id": "nguoi-yeu-cau", "step_title": "Người đi đăng ký",
                "screen": "step-form", "waiting_s": 95}
        args.update(over)
        return self.services.call_help(**args)

    def close(self):
        self.services.sync.stop()
        self.services.outbox.close()
        self.central_down()


@pytest.fixture
def kiosk(tmp_path):
    k = Kiosk(tmp_path)
    yield k
    k.close()


def test_online_call_is_sent_acknowledged_then_cancelled(kiosk):
    kiosk.central_up()
    call = kiosk.call(language="en")
    assert call.state == "sent"
    [seen] = kiosk.staff_calls()
    assert seen["uuid"] == call.uuid and seen["kiosk_id"] == "KIOSK-HN-BADINH-01" and seen["language"] == "en"
    assert seen["step_title"] == "Người đi đăng ký" and seen["waiting_s"] >= 95
    assert kiosk.services.help_call_state(call).state == "sent"
    r = requests.post(f"{kiosk.central.url}/api/v1/help-calls/{call.uuid}/ack", json={"by": "Quầy 2"}, headers=STAFF, timeout=10)
    assert r.status_code == 200
    kiosk.services.help_call_state(call)
    assert call.state == "acknowledged" and call.acknowledged_at
    kiosk.services.cancel_help_call(call)
    assert call.state == "cancelled"
    assert wait_until(lambda: kiosk.staff_calls("cancelled"), timeout=10)


def test_a_call_made_offline_is_kept_and_arrives_when_central_is_back(kiosk, clock):
    call = kiosk.call()
    assert call.state == "queued_offline"
    assert kiosk.services.outbox.status()["messages_pending"] == 1
    assert kiosk.services.help_call_state(call).state == "queued_offline"
    clock.advance(timedelta(minutes=3))  # the network comes back three minutes later
    kiosk.central_up()
    # nobody touches anything: the sync worker's probe sees central and sends the call
    assert wait_until(lambda: kiosk.staff_calls(), timeout=20), "the queued call never arrived"
    [seen] = kiosk.staff_calls()
    assert seen["uuid"] == call.uuid
    assert seen["since_call_s"] >= 180  # counted from when the citizen asked, not when it arrived
    assert kiosk.services.help_call_state(call).state == "sent"
    assert kiosk.services.outbox.status()["messages_pending"] == 0


def test_a_call_kept_through_a_restart_of_the_kiosk_still_arrives(kiosk, tmp_path):
    call = kiosk.call()
    assert call.state == "queued_offline"
    kiosk.services.sync.stop()
    kiosk.services.outbox.close()
    # the kiosk restarts (same files): the message is on disk, sealed
    box = Outbox(kiosk.cfg["outbox"]["path"], kiosk.cfg["outbox"]["key_file"])
    kiosk.services.outbox = box
    kiosk.services.sync = SyncWorker(box, kiosk.services.client, base_delay=0.1, max_delay=0.5, probe_interval=0.1).start()
    kiosk.central_up()
    assert wait_until(lambda: kiosk.staff_calls(), timeout=20)
    assert kiosk.staff_calls()[0]["uuid"] == call.uuid


def test_a_call_cancelled_while_queued_is_never_seen_by_staff(kiosk):
    call = kiosk.call()
    kiosk.services.cancel_help_call(call)
    assert call.state == "cancelled"
    kiosk.central_up()
    box = kiosk.services.outbox
    assert wait_until(lambda: box.status()["messages_pending"] == 0, timeout=20)
    assert kiosk.staff_calls("all") == []
    assert box.message(call.uuid).state == "dropped" and box.message(call.uuid).result == "cancelled"


def test_a_cancel_made_offline_after_the_call_arrived_is_sent_later(kiosk):
    kiosk.central_up()
    call = kiosk.call()
    assert call.state == "sent"
    kiosk.central_down()
    kiosk.services.cancel_help_call(call)
    assert call.state == "cancelled"
    kiosk.central_up()
    assert wait_until(lambda: kiosk.staff_calls("cancelled"), timeout=20), "the cancellation never arrived"
    assert kiosk.staff_calls() == []
    # cancelling again sends nothing new
    kiosk.services.cancel_help_call(call)
    assert kiosk.services.outbox.status()["messages_pending"] == 0


def test_a_call_older_than_30_minutes_is_not_sent(kiosk, clock):
    call = kiosk.call()
    assert call.state == "queued_offline"
    clock.advance(timedelta(minutes=31))
    kiosk.central_up()
    box = kiosk.services.outbox
    assert wait_until(lambda: box.status()["messages_pending"] == 0, timeout=20)
    assert box.message(call.uuid).result == "expired"
    assert kiosk.staff_calls("all") == []
    assert kiosk.services.help_call_state(call).state == "expired"


def test_a_queued_call_and_a_queued_dossier_both_arrive_and_a_refused_message_holds_back_neither(kiosk):
    box = kiosk.services.outbox
    dossier, files = sample_dossier(attachments=1)
    box.enqueue(dossier, files)
    # a message central will refuse for good (a body its schema does not take) and one this
    # version cannot send: both dropped, the rest goes on
    box.enqueue_message("help_call", {"uuid": "not-a-uuid", "screen": "home", "language": "vi", "waiting_s": 1},
                        uuid="bad-1")
    box.enqueue_message("rating_v9", {"level": "good"}, uuid="future-1")
    call = kiosk.call()
    assert call.state == "queued_offline"
    kiosk.central_up()
    assert wait_until(lambda: box.status()["pending"] == 0 and box.status()["messages_pending"] == 0, timeout=20)
    assert kiosk.central.central.count_dossiers() == 1
    assert [c["uuid"] for c in kiosk.staff_calls()] == [call.uuid]
    assert box.message("bad-1").state == "dropped" and box.message("bad-1").result.startswith("refused:")
    assert box.message("future-1").result == "unknown_kind"


def test_what_central_would_refuse_is_left_out_of_the_call_not_the_call_lost(kiosk):
    kiosk.central_up()
    call = kiosk.call(flow_id="Khai Sinh!", step_id="../x", step_title="x\x00" * 300, screen="Step Form", waiting_s=10**9)
    assert call.state == "sent"
    [seen] = kiosk.staff_calls()
    assert (seen["flow_id"], seen["step_id"], seen["screen"]) == ("", "", "unknown")
    assert len(seen["step_title"]) == 200 and "\x00" not in seen["step_title"]


def test_the_queued_call_is_sealed_at_rest_and_holds_nothing_personal(kiosk):
    call = kiosk.call()
    from pathlib import Path

    path = Path(kiosk.cfg["outbox"]["path"])
    raw = b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    assert call.uuid.encode() in raw  # the search does see the file's content (the uuid is a plain key)
    assert "Người đi đăng ký".encode() not in raw and b"khai-sinh" not in raw
    assert set(call.body) == {"uuid", "flow_id", "step_id", "step_title", "screen", "language", "waiting_s", "called_at"}


def test_an_outbox_holding_only_a_queued_call_is_never_given_a_new_key(kiosk):
    """A fresh key would make the sealed call unreadable: an outbox holding only messages counts
    as holding ciphertext, like one holding dossiers (a missing key is then an error, not a new key)."""
    from pathlib import Path

    from kiosk.outbox import holds_ciphertext
    from kiosk.outbox_errors import OutboxKeyError

    kiosk.call()
    path = Path(kiosk.cfg["outbox"]["path"])
    assert holds_ciphertext(path)
    kiosk.services.sync.stop()
    kiosk.services.outbox.close()
    Path(kiosk.cfg["outbox"]["key_file"]).unlink()
    with pytest.raises(OutboxKeyError):
        Outbox(path, kiosk.cfg["outbox"]["key_file"])
    kiosk.services.outbox = _Closed()  # closed above; the fixture's close() must not fail on it


class _Closed:
    def close(self):
        pass
