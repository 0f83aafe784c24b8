"""The officers' console (issue 19): accounts, login, lock-out, sessions, cookies, CSRF and hostile
forms, through FastAPI's TestClient against the real app on SQLite and PostgreSQL.

A refusal is a page with a 4xx status (never a 500, never the JSON API's body); the session cookie
is HttpOnly, SameSite=Strict, Path=/console and Secure over TLS; only a hash of it is stored."""
import re
import subprocess
import sys
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from central.app import create_app
from central.console.accounts import LoginRefused, token_hash
from central.db import audit_log, sessions
from central.service import Central
from testkit.console import console_app

ORIGIN = "http://testserver"
PASSWORD = "mat-khau-cua-lan-2026"


class Console:
    """A browser on the console: its cookies, and the CSRF token of the last page it read."""

    def __init__(self, app, base_url: str = ORIGIN):
        self.base = base_url
        self.http = TestClient(app, base_url=base_url, follow_redirects=False)

    def csrf_of(self, path: str) -> str:
        r = self.http.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        return re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)

    def login(self, username: str, password: str = PASSWORD):
        token = self.csrf_of("/console/login")
        return self.http.post("/console/login", data={"csrf": token, "username": username, "password": password},
                              headers={"Origin": self.base})

    def post(self, path: str, data: dict, *, csrf_from: str = "/console/", origin: str | None = ORIGIN, **kw):
        body = {"csrf": self.csrf_of(csrf_from), **data}
        headers = {"Origin": origin} if origin else {}
        return self.http.post(path, data=body, headers=headers, **kw)


@pytest.fixture
def central(database):
    c = Central.open(database)
    yield c
    c.close()


@pytest.fixture
def app(central):
    app = console_app(central, PASSWORD,
                      ("lan", "officer", "00004", "Nguyễn Thị Lan"),
                      ("hung", "supervisor", "00004", "Trần Văn Hùng"))
    return app


def audit(central, action: str) -> list[dict]:
    with central.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(audit_log).where(audit_log.c.action == action)
                                              .order_by(audit_log.c.id)).mappings()]


def is_page(r, status: int) -> None:
    assert r.status_code == status, (r.status_code, r.text[:400])
    assert r.headers["content-type"].startswith("text/html"), r.headers["content-type"]
    assert "no-store" in r.headers["cache-control"]


def test_login_sets_a_hashed_session_in_a_strict_httponly_cookie_and_logout_ends_it(app, central):
    b = Console(app)
    assert b.http.get("/console/").headers["location"] == "/console/login"  # no session: the login page
    r = b.login("lan")
    assert r.status_code == 303 and r.headers["location"] == "/console/"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("console_session="))
    flags = [f.strip().lower() for f in cookie.split(";")]
    assert "httponly" in flags and "samesite=strict" in flags and "path=/console" in flags
    assert "secure" not in flags  # plain http: a Secure cookie would never come back
    token = cookie.split(";")[0].split("=", 1)[1]
    with central.engine.connect() as conn:
        stored = conn.execute(select(sessions.c.token_sha256)).scalars().all()
    assert stored == [token_hash(token)] and token not in stored  # only its hash is kept
    home = b.http.get("/console/")
    is_page(home, 200)
    assert "Nguyễn Thị Lan" in home.text and 'id="logout"' in home.text
    assert b.post("/console/logout", {}).status_code == 303
    assert b.http.get("/console/").status_code == 303  # the cookie is gone…
    again = TestClient(app, base_url=ORIGIN, follow_redirects=False, cookies={"console_session": token})
    assert again.get("/console/").status_code == 303  # …and so is the session behind it
    assert [a["username"] for a in audit(central, "login")] == ["lan"] and audit(central, "logout")


def test_the_cookie_is_secure_over_tls(app):
    b = Console(app, base_url="https://testserver")
    r = b.login("lan")
    assert r.status_code == 303
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("console_session="))
    assert "secure" in [f.strip().lower() for f in cookie.split(";")]


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(app, central):
    b = Console(app)
    wrong, unknown = b.login("lan", "not-the-password"), b.login("nobody", "not-the-password")
    for r in (wrong, unknown):
        is_page(r, 401)
        assert "Tên đăng nhập hoặc mật khẩu không đúng." in r.text
        assert not any(c.startswith("console_session=") for c in r.headers.get_list("set-cookie"))
    failed = audit(central, "login_failed")
    assert [(a["username"], a["commune_code"]) for a in failed] == [("lan", "00004"), ("nobody", "")]
    assert all(a["address"] == "testclient" for a in failed)
    assert PASSWORD not in str(failed) and "not-the-password" not in str(failed)


def test_five_failures_lock_for_15_minutes_alike_for_known_and_unknown_names(app, central, clock):
    clock.freeze("2026-12-04T09:00:00")
    b = Console(app)
    for name in ("lan", "nobody"):
        answers = [b.login(name, f"wrong-password-{i}") for i in range(5)]
        assert [r.status_code for r in answers] == [401, 401, 401, 401, 429], name
        assert "tạm khóa đến 09:15" in answers[-1].text
    locked = b.login("lan")  # the right password does not pass during the lock
    is_page(locked, 429)
    assert "tạm khóa đến 09:15" in locked.text
    assert "tạm khóa đến 09:15" in b.login("nobody", PASSWORD).text  # the same words: no name is confirmed
    clock.advance(timedelta(minutes=15, seconds=1))
    assert b.login("lan").status_code == 303
    # a supervisor's unlock (the CLI's `accounts unlock`) ends a lock at once
    for i in range(5):
        b.login("hung", f"wrong-password-{i}")
    assert b.login("hung").status_code == 429
    app.state.console_accounts.unlock("hung")
    assert b.login("hung").status_code == 303
    assert audit(central, "account_unlocked")[0]["target"] == "hung"


def test_sessions_end_after_30_idle_minutes_and_after_10_hours(app, clock):
    clock.freeze("2026-12-04T07:00:00")
    b = Console(app)
    b.login("lan")
    clock.advance(timedelta(minutes=29))
    assert b.http.get("/console/").status_code == 200
    clock.advance(timedelta(minutes=31))
    assert b.http.get("/console/").headers["location"] == "/console/login"
    logged_in = clock.now()
    b.login("lan")
    for _ in range(40):  # busy all day: a request every 20 minutes
        clock.advance(timedelta(minutes=20))
        if b.http.get("/console/").status_code != 200:
            break
    # the first request after 10 hours is refused, none before
    assert clock.now() - logged_in == timedelta(hours=10, minutes=20)


def test_a_disabled_account_cannot_log_in_and_its_sessions_end(app):
    b = Console(app)
    b.login("lan")
    app.state.console_accounts.disable("lan")
    assert b.http.get("/console/").status_code == 303
    r = b.login("lan")
    is_page(r, 401)
    assert "không đúng" in r.text  # the same words as a wrong password


def test_every_post_needs_the_session_csrf_token_and_this_origin(app, central):
    b = Console(app)
    b.login("lan")
    token = b.csrf_of("/console/")
    attempts = {
        "no token": b.http.post("/console/logout", data={"note": ""}, headers={"Origin": ORIGIN}),
        "wrong token": b.http.post("/console/logout", data={"csrf": "x" * 43}, headers={"Origin": ORIGIN}),
        "other origin": b.http.post("/console/logout", data={"csrf": token}, headers={"Origin": "http://evil.example"}),
        "other referer": b.http.post("/console/logout", data={"csrf": token}, headers={"Referer": "http://evil.example/x"}),
        "no origin, no referer": b.http.post("/console/logout", data={"csrf": token}),
    }
    for why, r in attempts.items():
        is_page(r, 403)
        assert "Yêu cầu bị từ chối" in r.text, why
    assert b.http.get("/console/").status_code == 200  # none of them logged out
    ok = b.http.post("/console/logout", data={"csrf": token}, headers={"Referer": ORIGIN + "/console/"})
    assert ok.status_code == 303
    # another session's token is no good either
    other = Console(app)
    other.login("hung")
    is_page(other.http.post("/console/logout", data={"csrf": token}, headers={"Origin": ORIGIN}), 403)
    # the login form has its own token, bound to the browser's login cookie
    fresh = Console(app)
    r = fresh.http.post("/console/login", data={"csrf": token, "username": "lan", "password": PASSWORD}, headers={"Origin": ORIGIN})
    is_page(r, 403)
    assert audit(central, "login")[-1]["username"] == "hung"  # that login never happened


@pytest.mark.parametrize("case", ["huge declared", "huge chunked", "bad percent", "bad utf-8", "json", "repeated",
                                  "nul", "many fields", "no content type"])
def test_a_hostile_form_gets_a_clear_4xx_page(app, case):
    b = Console(app)
    b.login("lan")
    token = b.csrf_of("/console/")
    form = "application/x-www-form-urlencoded"
    body, ctype, status = {
        "huge declared": (b"csrf=" + b"a" * 200_000, form, 413),
        "huge chunked": (iter([b"csrf=", b"a" * 40_000]), form, 413),
        "bad percent": (f"csrf={token}&note=%ZZ%".encode(), form, 400),
        "bad utf-8": (f"csrf={token}&note=".encode() + b"%C3%28", form, 400),
        "json": (b'{"csrf": "x"}', "application/json", 415),
        "repeated": (f"csrf={token}&csrf={token}".encode(), form, 400),
        "nul": (f"csrf={token}&note=a%00b".encode(), form, 400),
        "many fields": ("&".join(f"f{i}=1" for i in range(500)).encode(), form, 400),
        "no content type": (f"csrf={token}".encode(), "", 415),
    }[case]
    headers = {"Origin": ORIGIN}
    if ctype:
        headers["Content-Type"] = ctype
    r = b.http.post("/console/logout", content=body, headers=headers)
    is_page(r, status)
    assert "<h1>" in r.text and "result" not in r.text  # a page, not the API's JSON refusal
    assert b.http.get("/console/").status_code == 200  # still logged in: nothing was done


def test_unknown_console_paths_are_pages_and_the_api_keeps_its_json(app):
    b = Console(app)
    b.login("lan")
    is_page(b.http.get("/console/no-such-page"), 404)
    is_page(b.http.put("/console/inbox"), 405)
    api = b.http.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json()["error"] == "not_found"


def test_the_cli_adds_accounts_with_the_password_from_stdin_never_an_argument(tmp_path):
    db = tmp_path / "central.sqlite3"
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[central]\ndatabase = "{db}"\n', encoding="utf-8")

    def kiosk(*args, stdin=""):
        return subprocess.run([sys.executable, "-m", "kiosk", "--config", str(cfg), "central", "accounts", *args],
                              input=stdin, capture_output=True, text=True, timeout=120)

    made = kiosk("add", "--username", "lan", "--role", "officer", "--commune", "00004", "--name", "Nguyễn Thị Lan",
                 stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    assert kiosk("add", "--username", "x1", "--role", "officer", "--commune", "00004", stdin="short\n").returncode == 1
    assert kiosk("add", "--username", "x1", "--role", "officer", "--commune", "00004", "--password", "p").returncode == 2
    listed = kiosk("list")
    assert "lan" in listed.stdout and "Nguyễn Thị Lan" in listed.stdout and PASSWORD not in listed.stdout
    central = Central.open(str(db))
    try:
        accounts = create_app(central).state.console_accounts
        with pytest.raises(LoginRefused):
            accounts.login("lan", "wrong-password")
        token, user = accounts.login("lan", PASSWORD)
        assert user.centre == "00004" and user.role == "officer" and token
        for _ in range(5):  # the login above started the count again
            with pytest.raises(LoginRefused):
                accounts.login("lan", "wrong-password")
    finally:
        central.close()
    assert "locked" in kiosk("list").stdout
    assert kiosk("unlock", "lan").returncode == 0
    assert "locked" not in kiosk("list").stdout
    assert kiosk("disable", "lan").returncode == 0 and "disabled" in kiosk("list").stdout
    assert kiosk("unlock", "nobody").returncode == 1


def test_the_cli_sets_up_the_counters_officers_pick(tmp_path):
    db = tmp_path / "central.sqlite3"
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[central]\ndatabase = "{db}"\n', encoding="utf-8")

    def kiosk(*args):
        return subprocess.run([sys.executable, "-m", "kiosk", "--config", str(cfg), "central", "counters", *args],
                              capture_output=True, text=True, timeout=120)

    assert kiosk("add", "--commune", "00004", "--counter", "1").returncode == 0
    assert kiosk("add", "--commune", "00004", "--counter", "2", "--name", "Quầy hộ tịch", "--services", "ho-tich").returncode == 0
    bad = kiosk("add", "--commune", "4", "--counter", "1")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    from central.queue import Queue

    central = Central.open(str(db))
    try:
        assert Queue(central).counters("00004") == [{"counter": "1", "name": "Quầy 1", "services": []},
                                                    {"counter": "2", "name": "Quầy hộ tịch", "services": ["ho-tich"]}]
    finally:
        central.close()
    assert kiosk("remove", "--commune", "00004", "--counter", "2").returncode == 0
    assert "Quầy hộ tịch" not in kiosk("list", "--commune", "00004").stdout
    assert kiosk("remove", "--commune", "00004", "--counter", "2").returncode == 1
