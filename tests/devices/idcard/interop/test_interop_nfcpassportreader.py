"""The reader against NFCPassportReader's EF.COM test data (an external corpus: README.md beside this file)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from devices.idcard import lds

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _corpus import NFCPASSPORTREADER, corpus  # noqa: E402

C = corpus(NFCPASSPORTREADER)
pytestmark = pytest.mark.skipif(not C.present, reason=C.missing_reason)


def test_every_file_is_in_the_manifest_with_its_hash():
    assert C.problems() == []


def test_ef_com_from_nfcpassportreader():
    """NFCPassportReader testCOMDatagroupParsing: version 0107, Unicode 040000, DG1 DG2 DG3 DG7 DG11 DG12 DG14 DG15."""
    com = lds.parse_com(C.blob("com/EF.COM"))
    assert (com.lds_version, com.unicode_version, com.data_groups) == ("0107", "040000", (1, 2, 3, 7, 11, 12, 14, 15))
