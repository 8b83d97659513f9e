"""What a newcomer does first, checked on CI's clean clone before the test suite.

``first-run``: the README's first command, ``make run``, on a clone where
nothing is installed: it must install what serving needs, index the demo
archive, print its address and serve it (``/healthz`` answers, a search finds
demo articles).

``entry-points``: an environment made by ``pip install .`` alone (no
development extras, which would hide a missing runtime dependency, and run
away from the clone, so that nothing is imported from its folders): each of
``article-search index``, ``search``, ``publish`` and ``serve`` works.

Standard library only: it runs with the system's Python before anything is
installed. On failure it prints the server's last lines and exits 1.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "demo" / "articles"
QUERY = "heat"  # in several demo articles
START_SECONDS = 900  # make run installs the runtime dependencies first
LOG_LINES = 40


class CheckFailed(Exception):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def run(command: list[str], cwd: Path) -> str:
    print("$", " ".join(command), flush=True)
    finished = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=900)
    if finished.returncode != 0:
        raise CheckFailed(
            f"{command[0]} {command[1]} exited {finished.returncode}\n"
            f"{finished.stdout}{finished.stderr}"
        )
    return finished.stdout


def check_search(found: dict, where: str) -> None:
    demo = {path.name for path in DEMO.iterdir()}
    ids = [hit["id"] for hit in found.get("results", [])]
    if not found.get("total") or not ids or not set(ids) <= demo:
        raise CheckFailed(f"{where}: a search for {QUERY!r} found no demo articles: {found}")


class Server:
    """A command that serves on ``port``, in its own process group, its output in a file."""

    def __init__(self, command: list[str], port: int, cwd: Path, log: Path):
        self.port, self.log = port, log
        print("$", " ".join(command), flush=True)
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                command,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def last_lines(self) -> str:
        lines = self.log.read_text(errors="replace").splitlines()
        return "\n".join(lines[-LOG_LINES:])

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CheckFailed(f"exited {self.process.returncode} before /healthz answered")
            try:
                get_json(self.url("/healthz"))
                return
            except OSError:
                time.sleep(1)
        raise CheckFailed(f"/healthz did not answer within {START_SECONDS} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def serve_and_search(command: list[str], cwd: Path, work: Path, port: int) -> Server:
    """Start ``command``, wait for /healthz, search; stopped on return. Returns the server."""
    server = Server(command, port, cwd, work / f"serve-{port}.log")
    try:
        server.wait_until_healthy()
        check_search(get_json(server.url(f"/api/search?q={QUERY}")), "/api/search")
    except (CheckFailed, OSError, ValueError) as error:
        raise CheckFailed(f"{error}\n--- the server's last lines:\n{server.last_lines()}") from None
    finally:
        server.stop()
    return server


def first_run(work: Path) -> None:
    port = free_port()
    server = serve_and_search(
        ["make", "run", f"BIND=127.0.0.1:{port}", f"INDEX={work / 'index'}"], REPO, work, port
    )
    if f"at http://127.0.0.1:{port}/" not in server.log.read_text(errors="replace"):
        raise CheckFailed(f"make run did not print its address:\n{server.last_lines()}")


def entry_points(work: Path) -> None:
    venv = work / "venv"
    run([sys.executable, "-m", "venv", str(venv)], work)
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(REPO)], work)
    cli = str(venv / "bin" / "article-search")
    index = str(work / "index")
    run([cli, "index", str(DEMO), "--index", index], work)
    if "articles" not in run([cli, "search", QUERY, "--index", index], work):
        raise CheckFailed("article-search search printed no total")
    check_search(json.loads(run([cli, "search", QUERY, "--json", "--index", index], work)), "CLI")
    run([cli, "publish", str(work / "replica"), "--index", index], work)
    port = free_port()
    serve_and_search(
        [cli, "serve", "--index", index, "--bind", f"127.0.0.1:{port}"], work, work, port
    )


CHECKS = {"first-run": first_run, "entry-points": entry_points}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in CHECKS:
        print(f"usage: newcomer.py {'|'.join(CHECKS)}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="newcomer-") as folder:
        try:
            CHECKS[argv[0]](Path(folder))
        except CheckFailed as error:
            print(f"newcomer {argv[0]}: FAILED: {error}", file=sys.stderr)
            return 1
    print(f"newcomer {argv[0]}: passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
