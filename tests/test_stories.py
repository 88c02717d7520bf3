"""End-to-end test stories (tests/stories/test_*.yml) through `rasa test core`.

Run from pytest so one test command covers everything; the stories use real user text, so
they exercise the trained NLU pipeline (including the safety net) and the dialogue policies.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from bot.launcher import REPO_ROOT, VENV_BIN, child_env

STORIES_DIR = REPO_ROOT / "tests" / "stories"


def count_stories() -> int:
    total = 0
    for path in STORIES_DIR.glob("test_*.yml"):
        total += len(yaml.safe_load(path.read_text(encoding="utf-8")).get("stories", []))
    return total


def test_there_are_enough_test_stories() -> None:
    assert count_stories() >= 60


def test_stories_pass_with_the_trained_model(trained_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    result = subprocess.run(
        [
            str(VENV_BIN / "rasa"),
            "test",
            "core",
            "--stories",
            str(STORIES_DIR),
            "--model",
            str(trained_model),
            "--out",
            str(out),
            "--fail-on-prediction-errors",
            "--no-plot",
        ],
        cwd=REPO_ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    failed = out / "failed_test_stories.yml"
    detail = failed.read_text(encoding="utf-8") if failed.exists() else result.stdout[-4000:]
    assert result.returncode == 0, f"test stories failed:\n{detail}\n{result.stderr[-3000:]}"
    report = json.loads((out / "story_report.json").read_text(encoding="utf-8"))
    assert report["conversation_accuracy"]["accuracy"] == 1.0
