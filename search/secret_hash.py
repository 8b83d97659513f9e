"""Slow salted hashes of editors' secrets (passwords, API tokens), checked in constant time.

A stored hash reads ``scrypt$N$r$p$SALT$HASH`` (salt and hash in unpadded
urlsafe base64), so the cost can rise later without breaking the hashes kept:
each is checked with the parameters it was made with. N = 2**15, r = 8 takes
about 0.2 s and 32 MB on the development machine (2 cores), so a stolen
accounts database costs an attacker as much per guess.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32
# scrypt needs 128 * r * N bytes: hashes up to twice today's cost are checked, dearer ones
# refused (a tampered database must not make a sign-in take a gigabyte).
MAX_MEMORY = 4 * 128 * SCRYPT_R * SCRYPT_N
SCHEME = "scrypt"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=MAX_MEMORY, dklen=HASH_BYTES
    )


def hash_secret(secret: str) -> str:
    """A new salted scrypt hash of ``secret``, to store."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"{SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, stored: str) -> bool:
    """Whether ``secret`` hashes to ``stored``; False for a malformed or too costly hash."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != SCHEME:
            return False
        computed = _scrypt(secret, _unb64(salt), int(n), int(r), int(p))
        return hmac.compare_digest(computed, _unb64(digest))
    except (ValueError, MemoryError):
        return False


_unknown_hash: str | None = None


def spend_verification(secret: str) -> None:
    """Spend what checking a secret costs, for a name without one: timing tells no names."""
    global _unknown_hash
    if _unknown_hash is None:
        _unknown_hash = hash_secret(secrets.token_urlsafe(16))
    verify_secret(secret, _unknown_hash)
