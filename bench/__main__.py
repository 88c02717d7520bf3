"""``python -m bench`` (``make bench``): run every benchmark and rewrite BENCHMARKS.md.

Order: training (its cold-trained model is then benchmarked, so the figures describe what
config.yml and data/ produce today), cross-validation, the held-out crisis set, then speed and
memory on the running stack, then the same client against two Rasa servers behind nginx
(``cluster``; skipped, saying why, without nginx, PostgreSQL or Redis). ``--quick`` runs the
same code paths with tiny settings and writes its report to a temporary folder, never over
BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import BENCHMARKS_MD, REPO_ROOT, RESULTS_DIR

SECTIONS = ("training", "nlu", "crisis", "specific", "speed", "cluster")
LATEST = RESULTS_DIR / "latest.json"
RECORDS = RESULTS_DIR / "cv_records.json"
EXPERIMENTS = REPO_ROOT / "bench" / "experiments.json"  # committed: what was tried
NOTES = REPO_ROOT / "bench" / "NOTES.md"
LOGGER = logging.getLogger("bench")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run with tiny settings")
    parser.add_argument(
        "--only", nargs="+", choices=SECTIONS, help="run only these sections (default: all)"
    )
    parser.add_argument(
        "--model", type=Path, help="model to serve and score (default: the cold-trained one)"
    )
    parser.add_argument("--output", type=Path, help="report path (default BENCHMARKS.md)")
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="re-render the report from bench/results/latest.json (after new experiments)",
    )
    parser.add_argument("--workdir", type=Path, help="keep models and logs here")
    return parser.parse_args(argv)


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        )
    except (OSError, StopIteration, ValueError):
        mem_kb = 0
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gb": round(mem_kb / 1024 / 1024, 1)}


def load_average() -> str:
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


def meta(quick: bool) -> dict[str, Any]:
    import rasa
    import sklearn

    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "commit": _git("rev-parse", "--short", "HEAD") or "unknown",
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "python": platform.python_version(),
        "rasa": rasa.__version__,
        "sklearn": sklearn.__version__,
        "quick": quick,
        "load_before": load_average(),
    }


def render_report(results: dict[str, Any], output: Path) -> None:
    from bench.report import render

    experiments = json.loads(EXPERIMENTS.read_text()) if EXPERIMENTS.exists() else []
    notes = NOTES.read_text(encoding="utf-8") if NOTES.exists() else ""
    output.write_text(render(results, experiments, notes), encoding="utf-8")
    LOGGER.info("wrote %s", output)


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from bench import latency, nlu, training
    from bench.metrics import latency_summary

    sections = set(args.only or SECTIONS)
    change = nlu.quick_change if args.quick else None
    results: dict[str, Any] = {"meta": meta(args.quick)}
    model: Path = args.model or REPO_ROOT / "models" / "carers.tar.gz"
    if "training" in sections:
        LOGGER.info("== training time")
        results["training"] = training.measure_training(workdir / "training", change)
        if args.model is None:
            model = Path(results["training"]["model"])
    results["meta"]["model"] = str(model)
    if "nlu" in sections:
        LOGGER.info("== 5-fold cross-validation")
        cv = nlu.cross_validate(change, max_folds=1 if args.quick else None)
        records = cv.pop("records")
        sample = [r["text"] for r in records][:: 40 if args.quick else 4]
        cv["featurizer_ms"] = latency_summary(nlu.featurizer_times_ms(sample))
        results["nlu"] = cv
        if not args.quick:
            RECORDS.write_text(json.dumps(records, indent=1, ensure_ascii=False) + "\n")
    if "crisis" in sections:
        LOGGER.info("== graded risk set (frozen and development parts)")
        results["risk_eval"] = nlu.score_risk_eval(model)
    if "specific" in sections:
        from bench.specific import measure_specific

        LOGGER.info("== specific questions (held-out lists), first reply over REST")
        results["specific"] = measure_specific(model, workdir / "specific")
    if "speed" in sections:
        LOGGER.info("== speed and memory")
        settings = latency.SpeedSettings.quick() if args.quick else latency.SpeedSettings()
        results["settings"] = asdict(settings)
        results["speed"] = latency.measure_speed(model, workdir / "speed", settings)
    if "cluster" in sections:
        from bench.cluster import measure_cluster

        LOGGER.info("== two Rasa servers behind nginx")
        settings = latency.SpeedSettings.quick() if args.quick else latency.SpeedSettings()
        results.setdefault("settings", asdict(settings))
        results["cluster"] = measure_cluster(model, workdir / "cluster", settings)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    if os.environ.get("PYTHONHASHSEED") != "0":
        # Rasa's featurizers iterate over sets: fix the hash seed so folds train identically.
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, "-m", "bench", *(argv or sys.argv[1:])])
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    if args.render_only:
        render_report(json.loads(LATEST.read_text()), args.output or BENCHMARKS_MD)
        return 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="carers-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        results = run(args, workdir)
        duration = round(time.perf_counter() - started)
        results["meta"]["duration_seconds"] = duration
        results["meta"]["load_after"] = load_average()
        cores = results["meta"]["machine"]["cores"] or 1
        busiest = max(
            float(results["meta"][key].split(",")[0]) for key in ("load_before", "load_after")
        )
        if busiest > cores * 0.75:
            results["meta"]["busy_note"] = (
                f"the machine was busy (load {busiest:.1f} on {cores} cores) from other work, "
                "so times are pessimistic: re-run `make bench` on a quiet machine"
            )
        if args.quick:
            output = args.output or workdir / "BENCHMARKS.quick.md"
            (workdir / "results.quick.json").write_text(json.dumps(results, indent=1) + "\n")
            if args.workdir is None:  # the temporary folder is about to go: keep the report
                output = args.output or Path(tempfile.gettempdir()) / "BENCHMARKS.quick.md"
        else:
            output = args.output or BENCHMARKS_MD
            LATEST.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
        render_report(results, output)
    LOGGER.info("done in %d s", duration)
    return 0


if __name__ == "__main__":
    sys.exit(main())
