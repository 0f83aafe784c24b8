"""Fixtures for the chip-card tests: deterministic randomness, and a real pcscd with the vpcd
driver plus our virtual card connected to it (Debian's vsmartcard-vpcd, /etc/reader.conf.d/vpcd:
reader 'Virtual PCD 00 00' on TCP 35963)."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _idcard_helpers import TRUST, VPCD_READER, make_rng  # noqa: E402

# `pcscd` (session-scoped, one per test run) is in tests/conftest.py.


@pytest.fixture
def rng():
    return make_rng("test")


def _present() -> bool:
    from devices.idcard.errors import CardError
    from devices.idcard.pcsc import PcscTransport

    try:
        return PcscTransport(VPCD_READER).card_present()
    except CardError:
        return False


@pytest.fixture
def vpcd_card(pcscd):
    """Factory: put a virtual card with the given data set on 'Virtual PCD 00 00'. Readers the
    test opened must be closed (pyscard connections released) before the fixture ends."""
    from devices.idcard.vcard.vpcd import VpcdCard

    cards = []

    def put(dataset: str = "default", latency_s: float = 0.0) -> VpcdCard:
        # vpcd quirk: after a card vanished in the middle of an APDU, the driver ignores the next
        # connection; a second connection is served. So: retry until pcscd reports the card.
        for _ in range(4):
            card = VpcdCard(dataset, latency_s=latency_s).start()
            cards.append(card)
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                if _present():
                    return card
                time.sleep(0.05)
            card.stop()
        pytest.fail("pcscd did not see the virtual card (4 connections to vpcd tried)")

    yield put
    for card in cards:
        card.stop()
    deadline = time.monotonic() + 10
    while _present() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture
def pcsc_config(tmp_path):
    """A kiosk config override that selects the pcsc backend on the vpcd reader."""
    path = tmp_path / "pcsc.toml"
    path.write_text(f'[devices.idcard]\nbackend = "pcsc"\nreader = "{VPCD_READER}"\ntrust_store = "{TRUST}"\n',
                    encoding="utf-8")
    return path
