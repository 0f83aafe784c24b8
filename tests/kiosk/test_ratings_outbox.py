"""Ratings from the kiosk (issue 19) go through the outbox to the real central system: nothing
personal, and kept while central is down, sent once when it returns."""
import json

from sqlalchemy import select

from central.db import ratings
from kiosk.sync import SyncWorker
from testkit.central import free_port, start_central, wait_until


def test_a_rating_survives_central_being_down_and_reaches_it_once(tmp_path):
    from kiosk.services import KioskServices
    from kiosk.tools.demo import demo_config

    port = free_port()
    cfg = demo_config(tmp_path / "k", port=port)
    services = KioskServices(cfg)
    services._open_outbox()
    services.sync.stop()
    services.sync = SyncWorker(services.outbox, services.client, base_delay=0.1, max_delay=0.5, probe_interval=0.1).start()
    server = None
    try:
        services.record_rating("not", "wait", service_id="ho-tich")  # central is not running
        services.record_rating("very")
        assert wait_until(lambda: services.outbox.status()["messages_pending"] == 2, timeout=5)
        assert not (services.data_dir / "ratings.jsonl").exists()  # the old local file is gone
        [kept] = [m for m in services.outbox.pending_messages() if m.body["level"] == "bad"]
        assert kept.kind == "rating" and set(kept.body) == {"uuid", "level", "reason", "service_id", "rated_at"}

        server = start_central(str(tmp_path / "central.sqlite3"), port=port, kiosk_id=cfg["kiosk"]["id"],
                               secret=cfg["central"]["kiosk_secret"])
        services.sync.wake()
        assert wait_until(lambda: services.outbox.status()["messages_pending"] == 0, timeout=20)
        with server.central.engine.connect() as conn:
            rows = conn.execute(select(ratings)).mappings().all()
        assert sorted((r["level"], r["reason"], r["service_id"]) for r in rows) == [("bad", "wait", "ho-tich"),
                                                                                   ("very_good", "", "")]
        assert all(r["kiosk_id"] == cfg["kiosk"]["id"] for r in rows)
        # sent again (an answer lost on the way): still one rating
        assert services.client.rate(kept.body) == "ok"
        with server.central.engine.connect() as conn:
            assert len(conn.execute(select(ratings.c.uuid)).all()) == 2
        assert "Trần" not in json.dumps([dict(r) for r in rows], ensure_ascii=False, default=str)
    finally:
        services.sync.stop()
        services.outbox.close()
        if server is not None:
            server.stop()


def test_an_unknown_level_is_refused_at_the_kiosk(tmp_path):
    import pytest

    from kiosk.services import KioskServices
    from kiosk.tools.demo import demo_config

    services = KioskServices(demo_config(tmp_path / "k"))
    services._open_outbox()
    services.sync.stop()
    try:
        with pytest.raises(ValueError):
            services.record_rating("excellent")
        assert services.outbox.status()["messages_pending"] == 0
    finally:
        services.outbox.close()
