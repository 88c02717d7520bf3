"""Benchmarks for Carers' Assistant: understanding, speed, memory and training time (issue 7).

``python -m bench`` (``make bench``) runs every section and rewrites ``BENCHMARKS.md``;
``python -m bench --quick`` is a smoke run of the same code paths with tiny settings.
Each section lives in its own module and returns plain JSON-able dicts, so the report can be
rendered (and tested) without running anything heavy.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "bench" / "results"
BENCHMARKS_MD = REPO_ROOT / "BENCHMARKS.md"
CRISIS_INTENT = "express_crisis"
FALLBACK_INTENT = "nlu_fallback"
SEED = 42
