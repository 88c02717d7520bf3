"""Benchmarks for Carers' Assistant: understanding, speed, memory and training time (issue 7).

``python -m bench`` (``make bench``) runs every section and rewrites ``BENCHMARKS.md``;
``python -m bench --quick`` is a smoke run of the same code paths with tiny settings.
Each section lives in its own module and returns plain JSON-able dicts, so the report can be
rendered (and tested) without running anything heavy.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "bench" / "results"
BENCHMARKS_MD = REPO_ROOT / "BENCHMARKS.md"
CRISIS_INTENT = "express_crisis"
FALLBACK_INTENT = "nlu_fallback"
SEED = 42


def import_file(path: Path, name: str) -> ModuleType:
    """Import a file that is not in a package (scripts/load.py, a test conftest) to reuse it."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
