"""`kiosk central serve` never registers a kiosk under the public demo secret (issue #16): anyone
who read config/kiosk.toml could otherwise file dossiers as that kiosk."""
import subprocess
import sys

from kiosk.client import AuthError, CentralClient, Offline
from testkit.central import free_port, wait_until


def serve(tmp_path, config_text: str, *extra):
    port = free_port()
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(config_text, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(cfg), "central", "serve", "--port", str(port),
                             "--database", str(tmp_path / "c.sqlite3"), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return proc, port


def test_the_demo_secret_is_not_registered_and_openapi_stays_off(tmp_path):
    import requests

    proc, port = serve(tmp_path, "")  # the shipped defaults: kiosk KIOSK-HN-BADINH-01, the demo secret
    try:
        url = f"http://127.0.0.1:{port}"
        client = CentralClient(url, "KIOSK-HN-BADINH-01", "demo-kiosk-secret-change-me", timeout=2)

        def answers():
            try:
                client.flows_index()
                return True
            except Offline:
                return False
            except AuthError:
                return True

        assert wait_until(answers, timeout=60), "not up"
        try:
            client.heartbeat({"schema": "kiosk-heartbeat/1", "kiosk_id": "KIOSK-HN-BADINH-01"})
            raise AssertionError("the demo secret was accepted")
        except AuthError:
            pass
        assert requests.get(url + "/openapi.json", timeout=5).status_code == 404
        assert requests.get(url + "/docs", timeout=5).status_code == 404
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "not registered: its secret is the public demo secret" in err


def test_public_openapi_is_served_when_configured(tmp_path):
    import requests

    proc, port = serve(tmp_path, "[central]\npublic_openapi = true\n", "--no-register")
    try:
        url = f"http://127.0.0.1:{port}/openapi.json"

        def up():
            try:
                return requests.get(url, timeout=2).status_code == 200
            except requests.ConnectionError:
                return False

        assert wait_until(up, timeout=60), "openapi.json not served"
        assert requests.get(url, timeout=5).json()["info"]["title"]
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
