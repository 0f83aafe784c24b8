"""The central system's dates: the code's day is the day it received the dossier; the due date
is the one the citizen's receipt shows (flows.calendar.appointment_date from the kiosk's time of
submission, with the flow's cut-off), on SQLite and PostgreSQL, at instants that break naive code."""
from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from testkit.central import KIOSK_ID, KIOSK_SECRET, sample_dossier
from common import clock as the_clock
from flows.calendar import appointment_date

AUTH = (KIOSK_ID, KIOSK_SECRET)


def file_at(server, *, submitted: str, received: str, days: int, cutoff: str | None):
    the_clock.freeze(submitted)
    dossier, files = sample_dossier(processing_days=days)
    dossier["receipt_cutoff"] = cutoff
    the_clock.freeze(received)
    for sha, data in files.items():
        assert requests.put(f"{server.url}/api/v1/attachments/{sha}", data=data, auth=AUTH).status_code in (200, 201)
    r = requests.post(f"{server.url}/api/v1/dossiers", json=dossier, auth=AUTH)
    assert r.status_code == 201, r.text
    return dossier, r.json()


@pytest.mark.parametrize("submitted,received,days,cutoff,code_day,due", [
    # same-day procedure filed 15:01 on a Friday: Monday, as the kiosk's review screen said
    ("2027-03-05T15:01", "2027-03-05T15:01:02", 0, "15:00", "270305", "2027-03-08"),
    # filed on the kiosk at 23:58 on 31/12, reached central after midnight: counts from the kiosk's time
    ("2027-12-31T23:58", "2028-01-01T00:00:30", 3, None, "280101", "2028-01-06"),
    # held in the outbox over Tết while the network was down: the receipt's date still holds
    ("2027-02-03T10:00", "2027-02-11T08:00", 3, None, "270211", "2027-02-15"),
    ("2028-02-29T10:00", "2028-02-29T10:00:05", 7, None, "280229", "2028-03-09"),
])
def test_central_gives_the_receipts_date(server, clock, submitted, received, days, cutoff, code_day, due):
    dossier, answer = file_at(server, submitted=submitted, received=received, days=days, cutoff=cutoff)
    assert answer["dossier_code"].split("-")[1] == code_day
    assert answer["appointment_date"] == due
    assert answer["appointment_date"] == appointment_date(the_clock.parse_instant(submitted), days, cutoff).isoformat()


def test_a_kiosk_clock_ahead_of_central_is_not_believed(server, clock):
    clock.freeze("2027-03-05T10:00")
    dossier, files = sample_dossier(processing_days=0)
    dossier["receipt_cutoff"] = "15:00"
    dossier["created_at"] = (clock.now() + timedelta(days=3)).isoformat()  # a kiosk whose clock runs days ahead
    for sha, data in files.items():
        requests.put(f"{server.url}/api/v1/attachments/{sha}", data=data, auth=AUTH)
    r = requests.post(f"{server.url}/api/v1/dossiers", json=dossier, auth=AUTH)
    assert r.status_code == 201 and r.json()["appointment_date"] == "2027-03-05"


def test_a_same_day_procedure_gets_a_date_not_null(server, clock):
    clock.freeze("2027-03-01T08:00")
    _, answer = file_at(server, submitted="2027-03-01T08:00", received="2027-03-01T08:00:01", days=0, cutoff="15:00")
    assert answer["appointment_date"] == "2027-03-01"


def test_a_malformed_cut_off_is_refused_by_field_name(server, clock):
    dossier, _ = sample_dossier()
    dossier["receipt_cutoff"] = "25:99"
    r = requests.post(f"{server.url}/api/v1/dossiers", json=dossier, auth=AUTH)
    assert r.status_code == 422 and "receipt_cutoff" in r.text
