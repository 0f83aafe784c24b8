"""Property test of the central API with Schemathesis (issue 17): the committed OpenAPI document
(central/openapi.json) drives generated requests, valid and invalid, against the running central
system over HTTP, on SQLite and on PostgreSQL, with every check on but one: no 5xx, every status,
content type, header and body as documented, invalid data refused, authentication enforced.

Left out: ``positive_data_acceptance``. The server refuses dossiers that match the schema for
reasons a schema cannot state (the commune must belong to the kiosk's province, the attachments
must have been uploaded by this kiosk, a uuid stays bound to its first content); those refusals
are documented 4xx and are checked as such.

Bounded for ``make test``: 20 examples per operation and phase (about 1,000 requests, ~15 s per
database). The seed comes from pytest-randomly's, so a failure is replayed with ``-p randomly
-p "randomly_seed=…"``; the CLI's report is in the assertion message.
"""
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import requests

from testkit.central import ADMIN_TOKEN, KIOSK_ID, KIOSK_SECRET, sample_dossier

ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = 20


def _cli() -> list[str]:
    exe = Path(sys.executable).with_name("schemathesis")
    return [str(exe)] if exe.exists() else [shutil.which("schemathesis") or "schemathesis"]


def test_schemathesis_finds_no_failure(server, tmp_path):
    # one real dossier and one bundle, so that status, staff and bundle calls reach their logic
    d, _ = sample_dossier(attachments=0)
    a = requests.post(f"{server.url}/api/v1/dossiers", json=d, auth=(KIOSK_ID, KIOSK_SECRET), timeout=10).json()
    manifest = {"format": 1, "bundle_id": "st-bundle-1", "created_at": "2026-01-01T00:00:00Z",
                "flows": [{"id": "khai-sinh", "version": 1, "sha256": "a" * 64, "path": "flows/khai-sinh.yaml"}], "media": []}
    server.central.store_bundle(b"PK not a zip", json.dumps(manifest).encode(), "st-bundle-1")
    # and one help call, so that its state, cancel and acknowledgement reach their logic too
    call = {"uuid": "0b8a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d", "screen": "home", "language": "vi", "waiting_s": 30}
    assert requests.post(f"{server.url}/api/v1/help-calls", json=call, auth=(KIOSK_ID, KIOSK_SECRET), timeout=10).status_code == 201
    config = tmp_path / "schemathesis.toml"
    config.write_text(f"""
[auth.openapi.HTTPBasic]
username = "{KIOSK_ID}"
password = "{KIOSK_SECRET}"

[auth.openapi.HTTPBearer]
bearer = "{ADMIN_TOKEN}"

# Schemathesis's default list lacks 413: a body over an endpoint's limit (central/limits.py) is
# refused before it is read, by size, which is the documented refusal for oversized invalid data
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]

[[operations]]
include-path = "/api/v1/dossiers/{{code}}"
parameters = {{ "path.code" = "{a['dossier_code']}", "query.secret" = "{a['lookup_secret']}" }}

[[operations]]
include-path = "/api/v1/dossiers/{{code}}/status"
parameters = {{ "path.code" = "{a['dossier_code']}" }}

[[operations]]
include-path-regex = '^/api/v1/flows/bundles/\\{{bundle_id\\}}'
parameters = {{ "path.bundle_id" = "st-bundle-1" }}

[[operations]]
include-path-regex = '^/api/v1/help-calls/\\{{uuid\\}}'
parameters = {{ "path.uuid" = "{call['uuid']}" }}
""", encoding="utf-8")
    seed = int(os.environ.get("SCHEMATHESIS_SEED") or random.randrange(1 << 30))  # env: replay a report's seed
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    # the generated requests include bad credentials: keep the server's back-off out of the way
    server.central.addr_limiter.free = server.central.kiosk_limiter.free = 1_000_000
    run = subprocess.run(
        [*_cli(), "--config-file", str(config), "run", str(ROOT / "central" / "openapi.json"), "--url", server.url,
         "--checks", "all", "--exclude-checks", "positive_data_acceptance", "--max-examples", str(MAX_EXAMPLES),
         "--seed", str(seed), "--workers", "1", "--generation-database", "none", "--no-color", "--request-timeout", "20"],
        capture_output=True, text=True, timeout=240, cwd=tmp_path, env=env)
    report = run.stdout[-8000:] + run.stderr[-2000:]
    (ROOT / "out").mkdir(exist_ok=True)
    (ROOT / "out" / f"schemathesis-{seed}.log").write_text(run.stdout + run.stderr, encoding="utf-8")  # the whole report
    assert run.returncode == 0, f"schemathesis seed {seed}:\n{report}"
    document = json.loads((ROOT / "central" / "openapi.json").read_text(encoding="utf-8"))
    operations = sum(len(ops) for ops in document["paths"].values())
    assert f"Tested: {operations}" in run.stdout, report
