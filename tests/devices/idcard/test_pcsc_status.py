"""PcscTransport's T=0 status handling (61xx GET RESPONSE, 6Cxx resend) and reader health.

The 61xx/6Cxx cases use a stub pyscard connection: vpcd always speaks T=1, so no real component on
this machine produces them (fake by necessity)."""
from __future__ import annotations

import pytest

from common.health import State
from devices.idcard import open_reader
from devices.idcard.pcsc import PcscTransport


class StubConnection:
    def __init__(self, answers):
        self.answers = list(answers)
        self.sent = []

    def transmit(self, apdu):
        self.sent.append(bytes(apdu))
        data, sw = self.answers.pop(0)
        return list(data), sw >> 8, sw & 0xFF


def test_61xx_collects_the_rest_with_get_response():
    t = PcscTransport("x")
    t._conn = StubConnection([(b"", 0x6104), (b"\x01\x02\x03\x04", 0x6102), (b"\x05\x06", 0x9000)])
    assert t.transmit(bytes.fromhex("0084000008")) == bytes.fromhex("0102030405069000")
    assert t._conn.sent[1:] == [bytes.fromhex("00C0000004"), bytes.fromhex("00C0000002")]


def test_6cxx_resends_with_the_right_le():
    t = PcscTransport("x")
    t._conn = StubConnection([(b"", 0x6C08), (bytes(8), 0x9000)])
    assert t.transmit(bytes.fromhex("0084000000")) == bytes(8) + b"\x90\x00"
    assert t._conn.sent[1] == bytes.fromhex("0084000008")


@pytest.mark.pcscd
def test_health_names_a_missing_reader(pcscd):
    reader = open_reader({"backend": "pcsc", "reader": "No Such Reader 42", "trust_store": ""})
    h = reader.health()
    assert h.state is State.NEEDS_ATTENTION and "not available" in h.detail
    assert reader.card_present() is False
