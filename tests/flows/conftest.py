from __future__ import annotations

import copy

import pytest

from flows_testdata import DEFINITIONS, MINIMAL


@pytest.fixture
def minimal():
    return copy.deepcopy(MINIMAL)


@pytest.fixture(scope="session")
def shipped_paths():
    return sorted(DEFINITIONS.glob("*.yaml"))
