"""`article-search editors add|list|password|remove|token|revoke` as a real process, on a real
folder."""

from __future__ import annotations

import subprocess

import pytest

from search.desk import DESK_FILE, Desk
from search.editors import EDITORS_DB, EditorStore
from tests.conftest import article_search_command

pytestmark = pytest.mark.slow

PASSWORD = "a long enough password"


def editors(index_dir, *argv: str, stdin: str = "") -> subprocess.CompletedProcess:
    command = [article_search_command(), "editors", *argv, "--index", str(index_dir)]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=60)


def test_an_operator_makes_an_editor_a_token_then_revokes_and_removes(tmp_path):
    index_dir = tmp_path / "index"
    made = editors(index_dir, "add", "maria", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    assert PASSWORD not in made.stdout + made.stderr
    assert EditorStore(index_dir).check_password("maria", PASSWORD).name == "maria"
    assert EditorStore(index_dir).check_password("maria", PASSWORD + "x") is None

    issued = editors(index_dir, "token", "maria")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.splitlines()[-1]
    assert EditorStore(index_dir).check_token(token).name == "maria"
    listed = editors(index_dir, "list")
    assert listed.stdout.startswith("maria\t") and "1 API token(s)" in listed.stdout
    assert token not in listed.stdout

    revoked = editors(index_dir, "revoke", "maria")
    assert revoked.returncode == 0 and "1 API token(s) of maria revoked" in revoked.stdout
    assert EditorStore(index_dir).check_token(token) is None

    removed = editors(index_dir, "remove", "maria")
    assert removed.returncode == 0, removed.stderr
    emptied = editors(index_dir, "list")
    assert emptied.returncode == 0 and emptied.stdout == "" and "no editors" in emptied.stderr
    assert EditorStore(index_dir).check_password("maria", PASSWORD) is None


def test_a_new_password_replaces_the_old_and_ends_the_editors_sessions(tmp_path):
    index_dir = tmp_path / "index"
    assert editors(index_dir, "add", "maria", stdin=PASSWORD + "\n").returncode == 0
    assert editors(index_dir, "add", "ines", stdin=PASSWORD + "\n").returncode == 0
    store = EditorStore(index_dir)
    maria = store.check_password("maria", PASSWORD)
    sessions = [store.start_session(maria), store.start_session(maria)]
    ines_session = store.start_session(store.check_password("ines", PASSWORD))
    token = store.new_token("maria")

    changed = editors(index_dir, "password", "maria", stdin="a brand new passphrase\n")
    assert changed.returncode == 0, changed.stderr
    assert "2 open session(s) ended" in changed.stdout
    assert "passphrase" not in changed.stdout + changed.stderr
    assert store.check_password("maria", PASSWORD) is None
    assert store.check_password("maria", "a brand new passphrase").name == "maria"
    assert [store.session_editor(session) for session in sessions] == [None, None]
    assert store.session_editor(ines_session).name == "ines"  # another editor stays in
    assert store.check_token(token).name == "maria"  # tokens are revoked on their own
    assert PASSWORD.encode() not in (index_dir / EDITORS_DB).read_bytes()

    short = editors(index_dir, "password", "maria", stdin="short\n")
    assert short.returncode == 2 and "at least 12 characters" in short.stderr
    unknown = editors(index_dir, "password", "nobody", stdin=PASSWORD)
    assert unknown.returncode == 2 and "no editor named 'nobody'" in unknown.stderr
    assert store.check_password("maria", "a brand new passphrase").name == "maria"


def test_bad_names_passwords_and_unknown_editors_are_clear_errors(tmp_path):
    index_dir = tmp_path / "index"
    short = editors(index_dir, "add", "maria", stdin="short\n")
    assert short.returncode == 2 and "at least 12 characters" in short.stderr
    bad = editors(index_dir, "add", "no spaces please", stdin=PASSWORD)
    assert bad.returncode == 2 and "an editor's name is" in bad.stderr
    assert editors(index_dir, "add", "maria", stdin=PASSWORD).returncode == 0
    again = editors(index_dir, "add", "Maria", stdin=PASSWORD)
    assert again.returncode == 2 and "already an editor named 'Maria'" in again.stderr
    for action in ("remove", "token", "revoke"):
        unknown = editors(index_dir, action, "nobody")
        assert unknown.returncode == 2 and "no editor named 'nobody'" in unknown.stderr, action
    missing = editors(index_dir, "token")
    assert missing.returncode == 2 and "needs the editor's NAME" in missing.stderr
    assert "Traceback" not in short.stderr + bad.stderr + again.stderr + missing.stderr


def test_a_replica_gets_no_editor(tmp_path):
    index_dir = tmp_path / "replica"
    index_dir.mkdir()
    Desk(tmp_path / "primary").copy_to(index_dir / DESK_FILE)  # what a publish leaves
    refused = editors(index_dir, "add", "maria", stdin=PASSWORD)
    assert refused.returncode == 2 and "is a replica" in refused.stderr
    assert not (index_dir / EDITORS_DB).exists()


def _on_a_terminal(argv: list[str], answers: list[tuple[str, str]]) -> tuple[int, str]:
    """Run the command on a pseudo-terminal; at each (prompt, text), wait for the prompt
    and type the text (getpass drops what is typed before it asks)."""
    import os
    import pty
    import select

    pid, terminal = pty.fork()
    if pid == 0:  # the child: the command, its standard input and output the terminal
        os.execv(argv[0], argv)
    shown, waiting = b"", b""

    def read() -> bytes:
        if not select.select([terminal], [], [], 30)[0]:
            os.kill(pid, 9)
            raise AssertionError(f"no prompt after {shown!r}")
        try:
            return os.read(terminal, 1024)
        except OSError:  # the command exited
            return b""

    for prompt, text in answers:
        while prompt.encode() not in waiting:
            chunk = read()
            assert chunk, f"exited before asking {prompt!r}: {shown!r}"
            shown, waiting = shown + chunk, waiting + chunk
        waiting = b""
        os.write(terminal, text.encode() + b"\n")
    while chunk := read():
        shown += chunk
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def test_on_a_terminal_the_password_is_asked_twice_and_never_shown(tmp_path):
    argv = [article_search_command(), "editors", "add", "maria", "--index", str(tmp_path / "ix")]
    status, shown = _on_a_terminal(
        argv, [("Password for maria:", PASSWORD), ("Again:", PASSWORD + " typo")]
    )
    assert status == 2 and "the two passwords differ" in shown
    assert PASSWORD not in shown
    status, shown = _on_a_terminal(argv, [("Password for maria:", PASSWORD), ("Again:", PASSWORD)])
    assert status == 0, shown
    assert "editor maria added" in shown and PASSWORD not in shown
    assert EditorStore(tmp_path / "ix").check_password("maria", PASSWORD).name == "maria"


def test_on_a_terminal_a_new_password_is_asked_twice(tmp_path):
    index_dir = tmp_path / "ix"
    assert editors(index_dir, "add", "maria", stdin=PASSWORD).returncode == 0
    argv = [article_search_command(), "editors", "password", "maria", "--index", str(index_dir)]
    new = "another long password"
    status, shown = _on_a_terminal(argv, [("Password for maria:", new), ("Again:", new + "!")])
    assert status == 2 and "the two passwords differ" in shown
    assert EditorStore(index_dir).check_password("maria", PASSWORD).name == "maria"
    status, shown = _on_a_terminal(argv, [("Password for maria:", new), ("Again:", new)])
    assert status == 0 and "password of maria changed" in shown and new not in shown
    assert EditorStore(index_dir).check_password("maria", new).name == "maria"
