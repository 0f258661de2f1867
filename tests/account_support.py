"""Shared by the account tests: cheap Argon2id, so the login rules can be tested quickly.

The rules under test (one answer for every failure, the wait, session expiry, audit)
do not depend on the hashing cost, while the production cost (64 MiB, 3 passes) takes
0.1-0.3 s per hash and per login. ``tests/test_accounts.py`` checks the production
parameters themselves on the hasher captured before any patching.
"""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from evalcore import auth

PRODUCTION_HASHER = auth._hasher


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", cheap)
    monkeypatch.setattr(auth, "_DUMMY_HASH", cheap.hash("evalcore-dummy-password"))
