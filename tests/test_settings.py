"""Configuration from the environment: one module reads and checks it, one table lists it."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from search import settings
from search.settings import SETTINGS, SettingError

ROOT = Path(__file__).resolve().parent.parent


def test_an_unset_or_empty_variable_is_its_default():
    for setting in SETTINGS:
        assert setting.read({}) == setting.default
        assert setting.read({setting.name: "  "}) == setting.default


@pytest.mark.parametrize(
    ("setting", "raw", "value"),
    [
        (settings.WORKERS, "3", 3),
        (settings.QUEUE_SECONDS, "0.25", 0.25),
        (settings.SEMANTIC, "Off", False),
        (settings.ANALYTICS, "yes", True),
        (settings.INDEX_MEMORY, "256", 256),
        (settings.SECRET_KEY, "k" * 32, "k" * 32),
        (settings.BIND, " 0.0.0.0:8080 ", "0.0.0.0:8080"),
    ],
)
def test_a_value_is_read_by_its_kind(setting, raw, value):
    assert setting.read({setting.name: raw}) == value


@pytest.mark.parametrize(
    ("setting", "raw", "says"),
    [
        (settings.WORKERS, "two", "whole number"),
        (settings.WORKERS, "0", "whole number"),
        (settings.WORKER_CONNECTIONS, "-5", "whole number"),
        (settings.QUEUE_SECONDS, "nan", "above 0"),
        (settings.QUEUE_SECONDS, "inf", "above 0"),
        (settings.SEMANTIC, "maybe", "1 (on) or 0 (off)"),
        (settings.WHOOSH_FALLBACK, "2", "1 (on) or 0 (off)"),
        (settings.INDEX_MEMORY, "100", "too small"),
        (settings.INDEX_MEMORY, "1.5", "megabytes"),
        (settings.SECRET_KEY, "short", "at least 32 characters"),
        (settings.ANALYTICS_MIN_SEARCHES, "0", "whole number"),
    ],
)
def test_a_bad_value_is_an_error_naming_the_variable_and_the_value(setting, raw, says):
    with pytest.raises(SettingError) as raised:
        setting.read({setting.name: raw})
    message = str(raised.value)
    assert message.startswith(f"{setting.name}={raw!r}: ")
    assert says in message


def test_check_all_lists_every_bad_value_and_nothing_when_all_are_good():
    assert settings.check_all({}) == []
    problems = settings.check_all(
        {settings.WORKERS.name: "many", settings.ANALYTICS.name: "perhaps", "UNRELATED": "x"}
    )
    assert [problem.split("=")[0] for problem in problems] == [
        settings.WORKERS.name,
        settings.ANALYTICS.name,
    ]


def _environment_reads(path: Path) -> list[str]:
    """Where a module reads os.environ (``.get``, ``[...]`` read, ``getenv``), as path:line."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        target = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "get" and ast.unparse(node.func.value) == "os.environ":
                target = node
            if node.func.attr == "getenv" and ast.unparse(node.func.value) == "os":
                target = node
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and ast.unparse(node.value) == "os.environ"
        ):
            target = node
        if target is not None:
            found.append(f"{path.relative_to(ROOT)}:{target.lineno}: {ast.unparse(target)}")
    return found


def test_no_module_but_settings_reads_configuration_from_the_environment():
    reads = [
        read
        for package in ("search", "web", "index")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != ROOT / "search" / "settings.py"
        for read in _environment_reads(path)
    ]
    # Who runs `desk restore` is the login's name, not configuration.
    assert [read for read in reads if not read.endswith("os.environ.get('USER')")] == []


def test_the_operators_table_lists_every_setting_once_with_its_default():
    text = (ROOT / "docs" / "operations.md").read_text()
    table = text[text.index("| variable | default | what |") :]
    table = table[: table.index("\n\n")]
    rows = {
        match.group(1): match.group(2)
        for match in re.finditer(r"^\| `([A-Z_]+)` \| ([^|]+) \|", table, re.MULTILINE)
    }
    assert list(rows) == [setting.name for setting in SETTINGS]
    numbers = [
        setting
        for setting in SETTINGS
        if isinstance(setting.default, int | float) and not isinstance(setting.default, bool)
    ]
    for setting in numbers:
        if setting is not settings.WORKERS:  # its default depends on the machine
            number = setting.default
            written = str(number) if isinstance(number, int) else f"{number:g}"
            assert written in rows[setting.name].replace(",", ""), setting.name


def test_serve_stops_before_gunicorn_with_one_line_per_bad_value(tmp_path):
    env = {
        **os.environ,
        settings.INDEX.name: str(tmp_path / "no-index-needed"),
        settings.WORKERS.name: "lots",
        settings.QUEUE_SECONDS.name: "-1",
    }
    run = subprocess.run(
        [sys.executable, "-m", "index.cli", "serve", "--bind", "127.0.0.1:1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert lines == [
        "article-search: cannot serve: ARTICLE_SEARCH_WORKERS='lots': "
        "must be a whole number of 1 or more",
        "article-search: cannot serve: ARTICLE_SEARCH_QUEUE_SECONDS='-1': must be a number above 0",
    ]
