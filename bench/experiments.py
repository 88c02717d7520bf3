"""Measured alternatives: what we tried where a target was missed, and what each did.

``python -m bench.experiments NAME...`` runs the named experiments and records them in
``bench/experiments.json`` (BENCHMARKS.md is re-rendered with them). config.yml is
never edited: a config experiment writes a changed copy to a temporary folder and runs the same
cross-validation (same folds) and, if asked, the same training-time measurement as ``make
bench``. A speed experiment runs the control and the variant back to back on the same model,
so both see the same machine load.

    python -m bench.experiments --list
    python -m bench.experiments diet-30-epochs logreg
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench import REPO_ROOT, RESULTS_DIR
from bench.nlu import ConfigChange, component
from bot.launcher import VENV_BIN, Stack, child_env

LOGGER = logging.getLogger("bench.experiments")
EXPERIMENTS_JSON = REPO_ROOT / "bench" / "experiments.json"  # committed, unlike results/
STORIES = REPO_ROOT / "tests" / "stories"


def _set(name: str, **options: Any) -> ConfigChange:
    def change(config: dict[str, Any]) -> None:
        component(config, name).update(options)

    return change


def _remove(name: str) -> ConfigChange:
    def change(config: dict[str, Any]) -> None:
        for key in ("pipeline", "policies"):
            config[key] = [c for c in config.get(key, []) if c.get("name") != name]

    return change


def _both(*changes: ConfigChange) -> ConfigChange:
    def change(config: dict[str, Any]) -> None:
        for one in changes:
            one(config)

    return change


def _char_ngrams_up_to_3(config: dict[str, Any]) -> None:
    for entry in config["pipeline"]:
        if entry.get("analyzer") == "char_wb":
            entry["max_ngram"] = 3


FUSION = "bot.nlu.fusion_classifier.FusionIntentClassifier"
EMBEDDINGS = "bot.nlu.sentence_featurizer.SentenceEmbeddingFeaturizer"


def _swap_classifier(replacement: dict[str, Any]) -> ConfigChange:
    def change(config: dict[str, Any]) -> None:
        pipeline = config["pipeline"]
        index = next(i for i, c in enumerate(pipeline) if c.get("name") == FUSION)
        pipeline[index] = dict(replacement)

    return change


_DIET = {
    "name": "DIETClassifier",
    "epochs": 60,
    "number_of_transformer_layers": 0,
    "entity_recognition": False,
    "constrain_similarities": True,
    "random_seed": 42,
}
_RASA_LOGREG = {"name": "LogisticRegressionClassifier", "max_iter": 1000}


class InMemoryTrackerStack(Stack):
    """The same stack with Rasa's default in-memory tracker store (no SQLite, no masking)."""

    def build(self) -> None:
        # Text, not YAML round-tripping, so Rasa's ${...} settings stay as they are.
        text = self.endpoints.read_text(encoding="utf-8")
        text = re.sub(r"(?m)^tracker_store:\n(?:[ \t]+.*\n)*", "", text)
        folder = self.log_dir or Path(tempfile.mkdtemp(prefix="carers-endpoints-"))
        folder.mkdir(parents=True, exist_ok=True)
        self.endpoints = folder / "endpoints.in-memory.yml"
        self.endpoints.write_text(text, encoding="utf-8")
        super().build()


@dataclass(frozen=True)
class Experiment:
    """One alternative. A speed experiment has ``stack`` or ``model_config`` set."""

    name: str
    change: str  # what differs from the current set-up, in words
    config: ConfigChange | None = None
    cv: bool = True
    training: bool = False
    stack: type[Stack] | None = None  # serve with this stack instead of the real one
    model_config: ConfigChange | None = None  # serve a model trained with this change

    @property
    def is_speed(self) -> bool:
        return self.stack is not None or self.model_config is not None


EXPERIMENTS: tuple[Experiment, ...] = (
    Experiment(
        "diet-sparse-dense",
        "FusionIntentClassifier → DIETClassifier on the same sparse + sentence features",
        _swap_classifier(_DIET),
        training=True,
    ),
    Experiment(
        "rasa-logreg",
        "FusionIntentClassifier → Rasa's LogisticRegressionClassifier (unscaled features)",
        _swap_classifier(_RASA_LOGREG),
        training=True,
    ),
    Experiment(
        "no-embeddings",
        "sentence embeddings removed (sparse features only, scaled)",
        _remove(EMBEDDINGS),
        training=True,
    ),
    Experiment(
        "no-regex-featurizer",
        "RegexFeaturizer removed (the 1,600 lookup entries still feed the entity extractor)",
        _remove("RegexFeaturizer"),
        training=True,
    ),
    Experiment(
        "char-2-3",
        "char_wb CountVectorsFeaturizer n-grams 2-4 → 2-3",
        _char_ngrams_up_to_3,
    ),
    Experiment(
        "in-memory-tracker",
        "Rasa's in-memory tracker store instead of the masked SQLite one",
        cv=False,
        stack=InMemoryTrackerStack,
    ),
)
# Recorded in experiments.json but no longer runnable: "cached-action-validator" and the
# "validator+…" pairs measured bench/patches' import hook, which bot/rasa36.py replaced (issue
# 14): every server now has the correction, so there is no control left to compare with.
BY_NAME = {e.name: e for e in EXPERIMENTS}


def _commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    return result.stdout.strip() or "unknown"


def _load() -> str:
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


def story_accuracy(model: Path, out: Path) -> dict[str, Any]:
    """``rasa test core`` on tests/stories: does the variant still hold the conversations?"""
    argv = [str(VENV_BIN / "rasa"), "test", "core", "--stories", str(STORIES)]
    argv += ["--model", str(model), "--out", str(out), "--no-plot"]
    subprocess.run(argv, cwd=REPO_ROOT, env=child_env(), capture_output=True, timeout=900)
    report = out / "story_report.json"
    if not report.exists():
        return {"error": "rasa test core wrote no report"}
    accuracy = json.loads(report.read_text(encoding="utf-8"))["conversation_accuracy"]
    return {"correct": accuracy["correct"], "total": accuracy["total"]}


def _crisis_eval(model: Path) -> dict[str, Any]:
    """The frozen risk set on a variant's model (the safety gate any change must pass)."""
    from bench.nlu import score_risk_eval

    frozen = score_risk_eval(model)["test"]
    return {"recall": frozen["acute_recall"], "false_alarm_rate": frozen["false_acute_rate"]}


def _speed_pair(experiment: Experiment, model: Path, workdir: Path) -> dict[str, Any]:
    from bench import latency, training

    settings = replace(
        latency.SpeedSettings(),
        levels=(50,),
        parse_requests=100,
        closed_loop=((4, 40),),
        telegram_chats=0,
    )
    variant_model = model
    out: dict[str, Any] = {}
    if experiment.model_config is not None:
        LOGGER.info("%s: training the variant model", experiment.name)
        trained = training.measure_training(
            workdir / "training", experiment.model_config, cached=False
        )
        variant_model = Path(trained["model"])
    pairs = (("control", Stack, model), ("variant", experiment.stack or Stack, variant_model))
    for label, stack_class, served in pairs:
        LOGGER.info("%s: %s stack", experiment.name, label)
        figures = latency.measure_speed(served, workdir / label, settings, stack_class)
        level = figures["levels"][0]
        out[label] = {
            "p50_ms_50_carers": level["p50_ms"],
            "p95_ms_50_carers": level["p95_ms"],
            "closed_loop_mps": figures["closed_loop"]["best_messages_per_second"],
            "parse_p50_ms": figures["parse"]["p50_ms"],
            "sequential_p50_ms": figures["sequential"]["p50_ms"],
            "rasa_cpu_ms": figures["sequential"]["rasa_cpu_ms"],
            "rasa_peak_mb": figures["memory"]["rasa"]["peak_mb"],
        }
        if experiment.model_config is not None:
            out[label]["stories"] = story_accuracy(served, workdir / f"stories-{label}")
            if label == "variant":
                out[label]["crisis_eval"] = _crisis_eval(served)
    return out


def run_experiment(experiment: Experiment, model: Path, workdir: Path) -> dict[str, Any]:
    from bench import nlu, training

    record: dict[str, Any] = {
        "name": experiment.name,
        "change": experiment.change,
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "load": _load(),
        "commit": _commit(),
    }
    if experiment.cv and not experiment.is_speed:
        cv = nlu.cross_validate(experiment.config, with_baseline=False)
        cv.pop("records")
        record["nlu"] = cv
    if experiment.training:
        trained = training.measure_training(workdir / "training", experiment.config)
        record["crisis_eval"] = _crisis_eval(Path(trained.pop("model")))
        record["training"] = trained
    if experiment.is_speed:
        record["speed"] = _speed_pair(experiment, model, workdir / "speed")
    record["load_after"] = _load()
    return record


def save(record: dict[str, Any]) -> None:
    records = json.loads(EXPERIMENTS_JSON.read_text()) if EXPERIMENTS_JSON.exists() else []
    records = [r for r in records if r.get("name") != record["name"]] + [record]
    order = {e.name: i for i, e in enumerate(EXPERIMENTS)}
    records.sort(key=lambda r: order.get(r["name"], len(order)))
    EXPERIMENTS_JSON.parent.mkdir(parents=True, exist_ok=True)
    EXPERIMENTS_JSON.write_text(json.dumps(records, indent=1, ensure_ascii=False) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.experiments")
    parser.add_argument("names", nargs="*", help="experiments to run (see --list)")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--model", type=Path, default=REPO_ROOT / "models" / "carers.tar.gz")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BY_NAME]
    if unknown:
        parser.error(f"unknown experiment(s): {', '.join(unknown)} (see --list)")
    if args.list or not args.names:
        for e in EXPERIMENTS:
            print(f"{e.name:22} {e.change}")
        return 0
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, "-m", "bench.experiments", *sys.argv[1:]])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    for name in args.names:
        with tempfile.TemporaryDirectory(prefix=f"carers-exp-{name}-") as tmp:
            LOGGER.info("experiment %s: %s", name, BY_NAME[name].change)
            save(run_experiment(BY_NAME[name], args.model, Path(tmp)))
    from bench.__main__ import main as bench_main

    if (RESULTS_DIR / "latest.json").exists():
        bench_main(["--render-only"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
