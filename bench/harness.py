"""What the benchmark scripts share about the processes they start.

Imported as ``harness`` by the scripts in this folder, which run as
``python bench/SCRIPT.py`` (the script's folder is first on sys.path).
"""

from __future__ import annotations

import ctypes
import signal


def die_with_parent() -> None:
    """In a started server's process, before exec: SIGTERM it when the script dies.

    A benchmark killed outright (a test's timeout, ^C twice, SIGKILL) runs no
    ``finally``; without this its server outlives it, holding a port and CPU.
    Pass as ``preexec_fn`` to subprocess.Popen.
    """
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
