"""A dossier kept offline gets a TAM code and a lookup key on its provisional receipt; once the
outbox delivers it, the real central system answers a lookup with that pair like the real code,
and names the real code (issue 19, Deliver 2)."""
from kiosk.client import CentralClient
from kiosk.outbox import Outbox
from kiosk.sync import SyncWorker
from testkit.central import KIOSK_ID, KIOSK_SECRET, free_port, sample_dossier, start_central


def test_the_tam_code_and_its_key_find_the_delivered_dossier(tmp_path):
    port = free_port()
    outbox = Outbox(tmp_path / "outbox.sqlite3", tmp_path / "outbox.key")
    client = CentralClient(f"http://127.0.0.1:{port}", KIOSK_ID, KIOSK_SECRET, timeout=5)
    dossier, files = sample_dossier(KIOSK_ID)
    code = outbox.enqueue(dossier, files)
    item = outbox.get(dossier["uuid"], decrypt=False)
    assert code.startswith("TAM-") and len(item.local_secret) == 10
    assert SyncWorker(outbox, client).drain_once().stopped_by == "offline"  # central not there yet
    server = start_central(str(tmp_path / "central.sqlite3"), port=port)
    try:
        report = SyncWorker(outbox, client).drain_once()
        assert report.sent == [dossier["uuid"]]
        real = outbox.get(dossier["uuid"], decrypt=False)
        found = client.status(code, item.local_secret.lower())
        assert found is not None and found["dossier_code"] == real.dossier_code and found["provisional_code"] == code
        assert found["status"] == "received"
        assert client.status(code, real.lookup_secret) is None  # the real key opens the real code only
        assert client.status(real.dossier_code, real.lookup_secret)["dossier_code"] == real.dossier_code
    finally:
        server.stop()
        outbox.close()
