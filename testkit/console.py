"""The console pages from a test's side (tests/central/test_console_*.py): an in-process client
logged in through the real login form, and small readers of the rendered HTML."""
from __future__ import annotations

import html
import re
import textwrap

ORIGIN = "http://testserver"

# The smallest flow the loader takes (6 steps: guide, identify, form, review, submit, receipt): the
# console's preview and help-clip tests render it on the kiosk's screens
SMALL_FLOW = textwrap.dedent("""\
    schema: kiosk-flow/1
    id: xem-thu
    version: 1
    procedure_code: "9.999999"
    name: {vi: Thủ tục xem thử, en: Trial procedure}
    field: {vi: Chứng thực, en: Certification}
    competent_level: commune
    authority: {vi: Ủy ban nhân dân cấp xã, en: Commune People's Committee}
    fee: {amount: 0, currency: VND}
    processing_days: 0
    documents: []
    steps:
      - id: huong-dan
        kind: guide
        title: {vi: Cần chuẩn bị gì, en: What you need}
        text: {vi: "Quý khách đọc kỹ hướng dẫn trước khi bắt đầu.", en: "Please read the guide before you start."}
      - id: xac-thuc
        kind: identify
        title: {vi: Người nộp hồ sơ, en: Applicant}
        options: {methods: [typed]}
      - id: van-ban
        kind: form
        title: {vi: Giấy tờ sẽ ký, en: The paper}
        fields:
          - id: so_ban
            type: number
            presets: [1, 2]
            label: {vi: Có mấy văn bản?, en: How many papers?}
            required: true
            default: 1
      - id: kiem-tra
        kind: review
        title: {vi: Kiểm tra lại, en: Check your answers}
      - id: nop
        kind: submit
        title: {vi: Đồng ý và nộp hồ sơ, en: Agree and submit}
      - id: bien-nhan
        kind: receipt
        title: {vi: Phiếu hẹn, en: Receipt}
    """)
SMALL_FLOW_STEPS = ["huong-dan", "xac-thuc", "van-ban", "kiem-tra", "nop", "bien-nhan"]


def login(app, username: str, password: str) -> "TestClient":  # noqa: F821
    """A TestClient holding ``username``'s session cookie (the login form with its CSRF token)."""
    from fastapi.testclient import TestClient

    http = TestClient(app, base_url=ORIGIN, follow_redirects=False)
    token = csrf_of(http.get("/console/login").text)
    r = http.post("/console/login", data={"csrf": token, "username": username, "password": password}, headers={"Origin": ORIGIN})
    assert r.status_code == 303, r.text[:300]
    return http


def post(http, url: str, page_url: str, **data):
    """A console POST as the browser sends it: the CSRF token from ``page_url``, the same origin."""
    return http.post(url, data={"csrf": csrf_of(http.get(page_url).text), **data}, headers={"Origin": ORIGIN})


def text(fragment: str) -> str:
    """What a reader sees of an HTML fragment: tags out, entities decoded, spaces collapsed."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))).strip()


def part(page: str, element_id: str) -> str:
    """The element with ``id="element_id"`` (to its matching closing tag name)."""
    m = re.search(rf'<(\w+)[^>]* id="{element_id}".*?</\1>', page, re.S)
    assert m, element_id
    return m.group(0)


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def form_fields(page: str, form_id: str) -> dict[str, str]:
    """What the browser would send for the form ``form_id`` as the page stands: inputs (checked
    checkboxes only), the selected option of each select, textareas; entities decoded."""
    from html.parser import HTMLParser

    class Reader(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.inside, self.out, self.select, self.area = False, {}, None, None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "form":
                self.inside = a.get("id") == form_id
            if not self.inside:
                return
            if tag == "input" and a.get("name"):
                if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                    return
                self.out[a["name"]] = a.get("value") or ""
            elif tag == "select":
                self.select = a.get("name")
            elif tag == "option" and self.select and "selected" in a:
                self.out[self.select] = a.get("value") or ""
            elif tag == "textarea":
                self.area = a.get("name")
                self.out[self.area] = ""

        def handle_endtag(self, tag):
            if tag == "form":
                self.inside = False
            elif tag == "select":
                self.select = None
            elif tag == "textarea":
                self.area = None

        def handle_data(self, data):
            if self.inside and self.area:
                self.out[self.area] += data

    r = Reader()
    r.feed(page)
    r.out.pop("csrf", None)
    return r.out


def console_app(central, password: str, *accounts: tuple):
    """The central system's app with console accounts, each ``(username, role, commune_code,
    display_name[, province_code])``, all with ``password`` (the console test modules' fixture)."""
    from central.app import create_app

    app = create_app(central)
    for username, role, commune, name, *province in accounts:
        app.state.console_accounts.add(username, password, role, commune, name, province_code=province[0] if province else "")
    return app
