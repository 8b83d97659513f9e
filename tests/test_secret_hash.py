"""Editors' secrets are stored as salted scrypt hashes, and checked at the cost they name.

The other tests hash at a cheap cost (conftest.production_scrypt_n); the first
tests here hash at the production one, each at most once (0.2 s a hash).
"""

from __future__ import annotations

import pytest

from search import secret_hash
from search.secret_hash import hash_secret, spend_verification, verify_secret

SECRET = "correct horse"


@pytest.fixture(scope="module")
def production_hash(production_scrypt_n) -> str:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(secret_hash, "SCRYPT_N", production_scrypt_n)
        return hash_secret(SECRET)


def test_a_hash_is_salted_scrypt_at_the_production_cost(production_hash, production_scrypt_n):
    assert production_scrypt_n >= 2**15
    scheme, n, r, p, salt, digest = production_hash.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", production_scrypt_n, 8, 1)
    assert SECRET not in production_hash
    assert verify_secret(SECRET, production_hash)
    assert not verify_secret(SECRET + "!", production_hash)


def test_an_unknown_name_costs_a_check_at_the_production_cost(production_scrypt_n, monkeypatch):
    monkeypatch.setattr(secret_hash, "SCRYPT_N", production_scrypt_n)
    monkeypatch.setattr(secret_hash, "_unknown_hash", None)
    spend_verification("anything")
    assert f"${production_scrypt_n}$" in secret_hash._unknown_hash


def test_each_hash_has_its_own_salt():
    first, second = hash_secret(SECRET), hash_secret(SECRET)
    assert first != second and first.split("$")[4] != second.split("$")[4]
    assert verify_secret(SECRET, first) and verify_secret(SECRET, second)


def test_a_hash_is_checked_at_the_cost_it_was_made_with(monkeypatch):
    stored = hash_secret(SECRET)
    monkeypatch.setattr(secret_hash, "SCRYPT_N", secret_hash.SCRYPT_N * 2)  # the cost rose
    assert verify_secret(SECRET, stored)
    assert not verify_secret(SECRET + "!", stored)


def test_malformed_or_too_costly_hashes_are_refused_not_raised(production_hash):
    scheme, n, r, p, salt, digest = production_hash.split("$")
    dearer = "$".join([scheme, str(int(n) * 8), r, p, salt, digest])  # past MAX_MEMORY
    malformed = ("", "scrypt$1$2", production_hash.replace("scrypt", "md5"), production_hash + "$")
    for bad in (dearer, *malformed):
        assert not verify_secret(SECRET, bad)
