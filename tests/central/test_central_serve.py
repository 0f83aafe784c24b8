"""`kiosk central serve` as a real process: it registers the configured kiosk and answers the client."""
import subprocess
import sys

import pytest

from testkit.central import free_port, sample_dossier, wait_until
from kiosk.client import CentralClient, Offline


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_registers_the_configured_kiosk_and_accepts_its_dossiers(tmp_path, workers, database):
    port = free_port()
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text('[central]\nkiosk_secret = "serve-test-secret-1"\n', encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(cfg), "central", "serve", "--port", str(port),
                             "--database", database, "--workers", str(workers)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        client = CentralClient(f"http://127.0.0.1:{port}", "KIOSK-HN-BADINH-01", "serve-test-secret-1", timeout=2)

        def up():
            try:
                return client.flows_index()["result"] == "ok"
            except Offline:
                return proc.poll() is None and False

        assert wait_until(up, timeout=60), proc.stderr.read().decode()[-2000:] if proc.poll() is not None else "not up"
        dossier, files = sample_dossier()
        for sha, data in files.items():
            client.upload_attachment(sha, data)
        first = client.submit(dossier)
        assert first.result == "created"
        assert client.submit(dossier).dossier_code == first.dossier_code  # whichever worker answers
    finally:
        proc.terminate()
        proc.wait(30)


def test_settle_process_loads_routing_data_and_freezes_the_heap():
    import gc

    from central import routing
    from central.server import settle_process

    routing.lookup_commune.cache_clear()
    try:
        settle_process()
        assert gc.get_freeze_count() > 10_000  # FastAPI, SQLAlchemy and the unit list, out of the collector's way
        assert routing.lookup_commune.cache_info().currsize >= 1
    finally:
        gc.unfreeze()  # the test process goes on allocating: give its objects back to the collector
