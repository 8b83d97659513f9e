"""The key that signs the desk's session cookies: configured, or made once and kept.

``ARTICLE_SEARCH_SECRET_KEY`` (at least 32 characters; ``search.settings``) wins;
otherwise the first process that needs a key writes 32 random bytes to ``secret_key`` in
the index folder (0600, published nowhere) and every process, every worker
and every restart reads the same one. There is no built-in default: a key
anyone can read in the source would let anyone sign a session.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRET_KEY_FILE = "secret_key"


def kept_secret_key(index_dir: Path) -> bytes:
    """The key kept in ``index_dir``, made on first use (two processes at once agree on one)."""
    path = Path(index_dir) / SECRET_KEY_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    made = path.with_name(f".{SECRET_KEY_FILE}.{os.getpid()}.tmp")
    descriptor = os.open(made, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(descriptor, secrets.token_bytes(32))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    try:
        os.link(made, path)  # fails if another process got there first: its key stands
    except FileExistsError:
        pass
    finally:
        os.unlink(made)
    return path.read_bytes()
