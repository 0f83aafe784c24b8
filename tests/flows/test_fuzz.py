"""Random damage to flow files and random citizen input: the only exceptions that may come out
are the typed ones (FlowLoadError, FlowError), never a traceback for the kiosk to show.
Deterministic seeds, so a failure reproduces."""
from __future__ import annotations

import random
from datetime import date, datetime

import flows
from flows.errors import FlowError, FlowLoadError
from flows.loader import load_flow_bytes
from flows.sample import KIOSK_UNIT, SIM_CITIZEN

from flows_testdata import DEFINITIONS

TOKENS = [b": ", b"\n", b"- ", b"[", b"]", b"{", b"}", b"'", b'"', b"*", b"&a ", b"!!python/object ", b"null",
          b"1.5", b"true", b"2025-01-01", b"\t", b"#", b"%YAML 1.1\n", b"---\n", b"? ", b"|\n", b"\x00", b"\xff",
          b"~", b"1e400", b".nan", b"-1"]


def test_damaged_flow_files_give_typed_errors_only():
    src = [p.read_bytes() for p in sorted(DEFINITIONS.glob("*.yaml"))]
    rng = random.Random(7)
    refused = 0
    for _ in range(600):
        data = bytearray(rng.choice(src))
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(data))
            if rng.random() < 0.4:
                del data[pos:pos + rng.randint(1, 40)]
            else:
                data[pos:pos] = rng.choice(TOKENS)
        try:
            load_flow_bytes(bytes(data), "fuzz.yaml")
        except FlowLoadError as exc:
            refused += 1
            assert exc.problems and all(p.message for p in exc.problems)
    assert refused > 400  # most damage is caught; the rest still loaded as valid flows


VALUES = [None, "", " ", "abc", "0912345678", "001185012345", 0, -1, 10**20, 1.5, float("nan"), float("inf"), True,
          False, [], ["x"], [1, 2], {}, {"province_code": "01", "commune_code": "00004"},
          {"province_code": "79", "commune_code": "x"}, "2026-02-30", "31/12/2025", date(1900, 1, 1),
          datetime(2030, 1, 1), "x" * 5000, "Phường Phúc Xá, Quận Ba Đình, Hà Nội", ["khac"], "khac", "nam",
          b"bytes", object()]


def test_random_citizen_input_gives_typed_errors_only():
    reg = flows.load_registry(DEFINITIONS)
    rng = random.Random(3)
    for _ in range(400):
        f = rng.choice(reg.flows)
        e = flows.FlowEngine(f, today=date(2026, 11, 23), kiosk_unit=KIOSK_UNIT)
        for _ in range(40):
            r = rng.random()
            try:
                if r < 0.1:
                    e.set_applicant(rng.choice([SIM_CITIZEN, {"id_number": rng.choice(VALUES)}, {}]),
                                    rng.choice(["chip", "qr", "typed"]))
                elif r < 0.6:
                    e.set(rng.choice(list(f.fields)), rng.choice(VALUES))
                elif r < 0.75:
                    e.next()
                elif r < 0.8:
                    e.back()
                elif r < 0.85:
                    e.set_attachment(rng.choice([d.id for d in f.documents] or ["x"]), "ab" * 32, 10, "image/jpeg")
                elif r < 0.9:
                    e.set_consent(rng.choice([True, False]), "cd" * 32)
                elif r < 0.93:
                    e.set_handling_unit(rng.choice(["01", "79"]), rng.choice(["00004", "26734", "x"]))
                else:
                    e.errors()
                    e.fee()
                    e.appointment_date(datetime(2026, 11, 23, 16))
                    doc = e.dossier("0b8a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d", "K-1", datetime(2026, 11, 23, 9))
                    from flows.dossier import dossier_problems

                    assert dossier_problems(doc) == []
            except FlowError as exc:
                assert exc.message_vi
