"""Before `article-search serve` hands over to gunicorn: can it import what serving needs?

gunicorn imports the worker class and the app in every worker, after the
fork: a module missing there is a traceback per worker, repeated as gunicorn
restarts them, and the master gives up with "Worker failed to boot". The
missing piece is often not ours: gunicorn's gevent worker imports
``packaging``, which gunicorn does not declare. Importing the same things once
here, in the process about to become gunicorn's master, turns that into one
line naming the missing module and the command that repairs it.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from pathlib import Path

REPAIR = "make install-run (or `pip install .` in the environment that runs article-search)"
GUNICORN_CONFIG = "web.gunicorn_conf"
APP_MODULE = "web"


def _module_of(path: str) -> str:
    """The dotted module name of a source file on sys.path, else the file's path."""
    file = Path(path).resolve()
    for entry in sys.path:
        try:
            relative = file.relative_to(Path(entry or ".").resolve())
        except ValueError:
            continue
        parts = relative.with_suffix("").parts
        if parts and parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            return ".".join(parts)
    return str(file)


def describe(error: ImportError) -> str:
    """One line: what could not be imported, by which module, and how to repair it."""
    frames = traceback.extract_tb(error.__traceback__)
    importer = f", imported by {_module_of(frames[-1].filename)}" if frames else ""
    if isinstance(error, ModuleNotFoundError) and error.name:
        what = f"the Python module '{error.name}' is missing"
    else:
        what = f"an import failed ({error})"
    return f"cannot serve: {what}{importer}. Repair the installation: {REPAIR}"


def serving_import_problem() -> str | None:
    """None when gunicorn, its worker class and the app import; else why not, in one line."""
    try:
        importlib.import_module("gunicorn.app.wsgiapp")
        config = importlib.import_module(GUNICORN_CONFIG)
        module_name, _, class_name = config.worker_class.rpartition(".")
        getattr(importlib.import_module(module_name), class_name)
        # create_app imports the blueprints and everything they import; it opens nothing.
        importlib.import_module(APP_MODULE).create_app()
    except ImportError as error:
        return describe(error)
    return None
