"""Is this configuration fit to face citizens? What a real kiosk must not run with.

The shipped files are public: their placeholders ("CHANGE-ME"), the demo kiosk secret and the
technician PIN 246810 are known to anyone who cloned the repository, and an empty list of flow
signing keys means no procedure can be trusted. On the simulated demo (every device backend
``sim``) that is the point: one command shows the kiosk. On any configuration with a real device
each of them is a problem: ``kiosk config check`` lists them and exits 1, and ``kiosk run``
refuses to start until they are fixed (docs/technician-guide.md, "Before the first citizen").

The card reader's trust store is checked by :mod:`devices.idcard.trust`, which knows what a test
certificate is.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from kiosk.config import DEFAULT_CONFIG, REPO_ROOT, Config, verify_pin

PUBLIC_PIN = "246810"   # printed in the README and the docs: the demo's PIN
PLACEHOLDER = "change-me"
DEVICE_SECTIONS = ("devices.idcard", "devices.qr", "devices.camera", "devices.printer")


@dataclass(frozen=True)
class Problem:
    key: str      # the configuration key to fix, e.g. "central.kiosk_secret"
    en: str
    vi: str

    def __str__(self) -> str:
        return f"{self.key}: {self.vi} / {self.en}"


def simulated(cfg: Config) -> bool:
    """The simulated demo: no real device at all."""
    return all(cfg[s]["backend"] == "sim" for s in DEVICE_SECTIONS)


def _shipped(section: str, key: str):
    with open(DEFAULT_CONFIG, "rb") as fh:
        return tomllib.load(fh).get(section, {}).get(key)


def file_problems(cfg: Config) -> list[Problem]:
    """Files the configuration names that would stop a device at start: checked on every kiosk."""
    found: list[Problem] = []
    if cfg["devices.idcard"]["quirks_file"]:
        from devices.idcard.backends import quirks_for
        from devices.idcard.errors import CardError

        try:
            quirks_for(cfg["devices.idcard"])
        except CardError as exc:
            found.append(Problem("devices.idcard.quirks_file", exc.detail or exc.message_en, exc.message_vi))
    return found


def uses_demo_secret(cfg: Config) -> bool:
    """The kiosk secret is the public one of config/kiosk.toml (or still a CHANGE-ME placeholder)."""
    secret = cfg["central"]["kiosk_secret"]
    return secret == _shipped("central", "kiosk_secret") or PLACEHOLDER in secret.lower()


#: the simulated demo's receiving account (kiosk.tools.demo): never a real kiosk's
DEMO_PAYMENT_ACCOUNT = ("970436", "0011001234567")


def problems(cfg: Config) -> list[Problem]:
    """Everything that makes ``cfg`` unfit for a kiosk with real devices (on the demo: only a
    broken file it names)."""
    found: list[Problem] = file_problems(cfg)
    if simulated(cfg):
        return found
    for section, values in cfg.as_dict().items():
        for key, value in values.items():
            texts = value if isinstance(value, list) else [value]
            if any(isinstance(t, str) and PLACEHOLDER in t.lower() for t in texts):
                found.append(Problem(f"{section}.{key}", "still the shipped placeholder (CHANGE-ME)",
                                     "vẫn là giá trị mẫu (CHANGE-ME) chưa được thay"))
    c = cfg["central"]
    if uses_demo_secret(cfg) and not any(p.key == "central.kiosk_secret" for p in found):
        found.append(Problem("central.kiosk_secret", "the demo secret from config/kiosk.toml, known to everyone",
                             "là khóa bí mật của bản trình diễn, ai cũng biết"))
    if verify_pin(PUBLIC_PIN, cfg["maintenance"]["pin_hash"]):
        found.append(Problem("maintenance.pin_hash", f"the technician PIN is the public demo PIN {PUBLIC_PIN}: "
                             "make a new one with `kiosk config hash-pin`",
                             f"mã PIN kỹ thuật vẫn là mã công khai {PUBLIC_PIN}: tạo mã mới bằng `kiosk config hash-pin`"))
    if not cfg["flows"]["trusted_keys"]:
        found.append(Problem("flows.trusted_keys", "empty: no signed procedure can be trusted (the province's "
                             "flow-signing public key goes here)",
                             "đang trống: chưa tin khóa ký quy trình nào (điền khóa công khai của tỉnh)"))
    if cfg["flows"]["min_signatures"] < 2:
        found.append(Problem("flows.min_signatures", f"{cfg['flows']['min_signatures']}: one key alone could publish "
                             "procedures; a real kiosk needs 2 (one admin submits, another approves)",
                             f"{cfg['flows']['min_signatures']}: một khóa đủ để phát hành quy trình; ki-ốt thật cần 2 "
                             "(một người trình, một người khác duyệt)"))
    url = urlsplit(c["url"])
    loopback = url.hostname in ("127.0.0.1", "::1", "localhost")
    if url.scheme != "https" and not (c["embedded"] and loopback):
        # dossiers carry personal data: only the embedded central on this very machine may go without TLS
        found.append(Problem("central.url", "not https://: dossiers would cross the network unencrypted",
                             "không phải https://: hồ sơ sẽ đi qua mạng không được mã hóa"))
    if c["payment_gateway_secret"]:
        found.append(Problem("central.payment_gateway_secret", "set on a kiosk: the bank gateway's secret belongs to "
                             "the central system only (whoever holds it can declare any dossier paid)",
                             "đang đặt trên ki-ốt: khóa bí mật của cổng ngân hàng chỉ để ở hệ thống trung tâm "
                             "(ai có khóa này đều báo được hồ sơ đã nộp tiền)"))
    pay = cfg["payments"]
    if pay["enabled"] and (pay["bank_bin"], pay["account"]) == DEMO_PAYMENT_ACCOUNT:
        found.append(Problem("payments.account", "the demo's test account: citizens would pay into an account the "
                             "centre does not hold", "là tài khoản thử của bản trình diễn: người dân sẽ chuyển tiền "
                             "vào tài khoản không phải của trung tâm"))
    if cfg["devices.idcard"]["backend"] != "sim":
        from devices.idcard.trust import trust_store_problems

        for text_en, text_vi in trust_store_problems(cfg["devices.idcard"]["trust_store"]):
            found.append(Problem("devices.idcard.trust_store", text_en, text_vi))
    return found


# --- pictures of this kiosk's devices (the identify screen's numbered steps) ------------------------
#: the pictures the identify screen shows, by file name: what each one must show
PICTURES = {
    "card-qr.png": "the ID card's QR code held to the QR scanner",
    "card-reader.png": "the ID card laid on the card reader",
    "phone-qr.png": "a phone showing the VNeID app's QR code held to the QR scanner",
}
#: the shipped drawings (scripts/draw_device_pictures.py), shown where a kiosk has no photo of its own
SHIPPED_PICTURES = REPO_ROOT / "media" / "devices"


def _picture_problem(path: Path) -> str | None:
    """Why ``path`` cannot be shown (English), or None."""
    if not path.is_file():
        return "not found"
    try:
        from PIL import Image

        with Image.open(path) as img:
            img.verify()
    except Exception:  # noqa: BLE001 - any unreadable file gets the same answer
        return "not a PNG or JPEG picture"
    return None


def device_picture(cfg: Config, name: str) -> Path:
    """The picture ``name`` (one of PICTURES) to show: the kiosk's own from ``[kiosk]
    device_pictures`` if it is there and readable, else the shipped drawing. Never raises for a
    missing file: a citizen sees the drawing, the technician sees ``picture_problems``."""
    if name not in PICTURES:
        raise KeyError(name)
    folder = cfg["kiosk"].get("device_pictures") or ""
    if folder:
        own = Path(folder) / name
        if _picture_problem(own) is None:
            return own
    return SHIPPED_PICTURES / name


def picture_problems(cfg: Config) -> list[Problem]:
    """Pictures ``[kiosk] device_pictures`` names that the kiosk cannot show (it shows the shipped
    drawing instead, which may put the devices where this model has none). Not a reason to keep
    citizens away, so not in ``problems``: ``kiosk config check`` lists them."""
    folder = cfg["kiosk"].get("device_pictures") or ""
    if not folder:
        return []
    if not Path(folder).is_dir():
        return [Problem("kiosk.device_pictures", f"the folder {folder} does not exist: the identify screen shows the "
                        "shipped drawings, which may not look like this kiosk",
                        f"không có thư mục {folder}: màn hình xác thực đang dùng hình vẽ mẫu, có thể không giống ki-ốt này")]
    found = []
    for name, shows in PICTURES.items():
        why = _picture_problem(Path(folder) / name)
        if why is not None:
            vi = "không tìm thấy" if why == "not found" else "không phải ảnh PNG hoặc JPEG"
            found.append(Problem("kiosk.device_pictures", f"{name} ({shows}) is {why} in {folder}: the shipped "
                                 "drawing is shown instead",
                                 f"{name}: {vi} trong {folder}; màn hình xác thực đang dùng hình vẽ mẫu"))
    return found
