"""Training time: cold (nothing cached) and cached retraining after one NLU example changes.

Runs the real ``rasa train`` command a developer runs, in a throw-away copy of the project's
config, domain and data, with a fresh ``--out`` folder and a fresh ``RASA_CACHE_DIRECTORY``:
nothing from models/ or .rasa/cache is read or written. Wall-clock time includes starting
Python and importing Rasa, because that is what a developer waits for.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import REPO_ROOT
from bench.nlu import write_config
from bot.launcher import VENV_BIN, child_env

LOGGER = logging.getLogger("bench.training")
EDITED_FILE = Path("data") / "nlu" / "visiting.yml"


def copy_project(dest: Path, change: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """config.yml (optionally changed), domain.yml and data/ copied into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    write_config(dest / "config.yml", change)
    shutil.copy2(REPO_ROOT / "domain.yml", dest / "domain.yml")
    shutil.copytree(REPO_ROOT / "data", dest / "data", dirs_exist_ok=True)
    return dest


def edit_one_example(project: Path) -> str:
    """Change the wording of ONE training example (the first in visiting.yml); return it."""
    path = project / EDITED_FILE
    text = path.read_text(encoding="utf-8")
    match = re.search(r"examples: \|\n(\s+- )(.+)$", text, flags=re.MULTILINE)
    if match is None:
        raise ValueError(f"no example line in {path}")
    edited = match.group(2).rstrip() + " please"
    path.write_text(text[: match.start(2)] + edited + text[match.end(2) :], encoding="utf-8")
    return edited


def rasa_train(project: Path, out: Path, cache: Path, log: Path) -> float:
    """``rasa train`` in ``project``; returns wall-clock seconds. Raises if it fails."""
    argv = [
        str(VENV_BIN / "rasa"),
        "train",
        "--config",
        "config.yml",
        "--domain",
        "domain.yml",
        "--data",
        "data",
        "--out",
        str(out),
        "--fixed-model-name",
        "carers",
        "--augmentation",
        "0",
    ]
    env = child_env({"RASA_CACHE_DIRECTORY": str(cache), "PYTHONHASHSEED": "0"})
    started = time.perf_counter()
    with log.open("ab") as handle:
        code = subprocess.call(argv, cwd=project, env=env, stdout=handle, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(f"rasa train failed with exit code {code}; see {log}")
    return seconds


def measure_training(
    workdir: Path,
    change: Callable[[dict[str, Any]], None] | None = None,
    cached: bool = True,
) -> dict[str, Any]:
    """Cold train, then (if ``cached``) edit one example and retrain with the same cache.

    Returns the timings and the path of the cold-trained model (the benchmark then serves it,
    so speed and memory are measured on exactly what config.yml and data/ produce today).
    """
    project = copy_project(workdir / "project", change)
    cache = workdir / "cache"
    out = workdir / "models"
    log = workdir / "train.log"
    LOGGER.info("cold training (fresh --out and RASA_CACHE_DIRECTORY)")
    cold = rasa_train(project, out, cache, log)
    model = out / "carers.tar.gz"
    shutil.copy2(model, workdir / "cold-model.tar.gz")
    result: dict[str, Any] = {
        "cold_seconds": round(cold, 1),
        "model": str(workdir / "cold-model.tar.gz"),
        "model_mb": round(model.stat().st_size / 1e6, 1),
    }
    if cached:
        edited = edit_one_example(project)
        LOGGER.info("cached retraining after editing one example")
        result["cached_seconds"] = round(rasa_train(project, out, cache, log), 1)
        result["edited_example"] = edited
        result["edited_file"] = str(EDITED_FILE)
    return result
