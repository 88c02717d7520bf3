"""Render BENCHMARKS.md from the results dict (pure: no Rasa, no servers).

Every target sits beside its result with "met" or "NOT met"; a figure that was not measured
says so rather than passing. Hand-written findings (what was tried, what to change) come from
``bench/NOTES.md`` and the numbers of the experiments from ``bench/experiments.json``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# 1.2 GB expressed in MiB, the unit /proc reports in (kB = KiB).
RASA_RSS_LIMIT_MB = 1.2 * 1024


@dataclass(frozen=True)
class Target:
    label: str
    wanted: str
    value: Callable[[dict[str, Any]], float | None]
    shown: Callable[[float], str]
    met: Callable[[float, dict[str, Any]], bool]


def _get(results: dict[str, Any], *path: Any) -> Any:
    node: Any = results
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _level(results: dict[str, Any], carers: int) -> dict[str, Any] | None:
    for level in _get(results, "speed", "levels") or []:
        if level.get("carers") == carers:
            return level
    return None


def _cluster_level(results: dict[str, Any]) -> dict[str, Any] | None:
    levels = _get(results, "cluster", "levels") or []
    return levels[-1] if levels else None


def _cpu_over_parse(results: dict[str, Any]) -> float | None:
    """Rasa CPU per REST message as a multiple of the bare parse's CPU (same model, same run)."""
    rest, parse = (
        _get(results, "speed", "sequential", "rasa_cpu_ms"),
        _get(results, "speed", "parse", "rasa_cpu_ms"),
    )
    if not rest or not parse:
        return None
    return float(rest) / float(parse)


def _cluster_loop(results: dict[str, Any]) -> float | None:
    loop = _get(results, "cluster", "closed_loop")
    if not loop:
        return None
    if any(run.get("errors") for run in loop["runs"]):
        return 0.0  # errors fail the target whatever the rate
    return float(loop["best_messages_per_second"])


def _baseline_accuracy(results: dict[str, Any]) -> float:
    """The better of the two baselines (TF-IDF + LR, sentence vectors + LR)."""
    scores = [_get(results, "nlu", name, "accuracy") for name in ("baseline", "embedding_baseline")]
    known = [float(v) for v in scores if v is not None]
    return max(known) if known else 1.0


TARGETS: tuple[Target, ...] = (
    Target(
        "CV accuracy, the classifier's own top intent (issue 3)",
        "≥ 0.92 and above the baseline",
        lambda r: _get(r, "nlu", "classifier", "accuracy"),
        lambda v: f"{v:.3f} (baseline {{baseline}})",
        lambda v, r: v >= 0.92 and v > _baseline_accuracy(r),
    ),
    Target(
        "CV accuracy, final (after fallback and risk assessor) (issue 11)",
        "≥ 0.90 and 3 points above the better baseline",
        lambda r: _get(r, "nlu", "final", "accuracy"),
        lambda v: f"{v:.3f} (better baseline {{baseline}})",
        lambda v, r: v >= 0.90 and v >= _baseline_accuracy(r) + 0.03,
    ),
    Target(
        "CV wrong answers (issue 11)",
        "≤ 0.06",
        lambda r: _get(r, "nlu", "wrong_rate"),
        lambda v: f"{v:.3f}",
        lambda v, r: v <= 0.06,
    ),
    Target(
        "Parse p50, bare `/model/parse` (issue 11)",
        "≤ 30 ms",
        lambda r: _get(r, "speed", "parse", "p50_ms"),
        lambda v: f"{v:.0f} ms",
        lambda v, r: v <= 30,
    ),
    Target(
        "Acute recall, frozen risk set (issue 12)",
        "1.000",
        lambda r: _get(r, "risk_eval", "test", "acute_recall"),
        lambda v: f"{v:.3f}",
        lambda v, r: v >= 1.0,
    ),
    Target(
        "Acute replies to concern/none, frozen risk set (issue 12)",
        "≤ 0.02",
        lambda r: _get(r, "risk_eval", "test", "false_acute_rate"),
        lambda v: f"{v:.3f}",
        lambda v, r: v <= 0.02,
    ),
    Target(
        "Concern answered on the right topic, frozen risk set (issue 12)",
        "≥ 0.85",
        lambda r: _get(r, "risk_eval", "test", "concern_right_topic"),
        lambda v: f"{v:.3f}",
        lambda v, r: v >= 0.85,
    ),
    Target(
        "Specific fact in the first reply, frozen list (issue 13)",
        "≥ 0.90",
        lambda r: _get(r, "specific", "specific", "share"),
        lambda v: f"{v:.3f}",
        lambda v, r: v >= 0.90,
    ),
    Target(
        "p95 latency, 50 thinking carers (issue 7)",
        "≤ 100 ms",
        lambda r: (_level(r, 50) or {}).get("p95_ms"),
        lambda v: f"{v:.0f} ms",
        lambda v, r: v <= 100,
    ),
    Target(
        "Closed-loop throughput (issue 7)",
        "≥ 40 msg/s",
        lambda r: _get(r, "speed", "closed_loop", "best_messages_per_second"),
        lambda v: f"{v:.1f} msg/s",
        lambda v, r: v >= 40,
    ),
    Target(
        "Rasa CPU per REST message, as a multiple of the bare parse's (issue 14)",
        "≤ 2×",
        _cpu_over_parse,
        lambda v: f"{v:.2f}×",
        lambda v, r: v <= 2,
    ),
    Target(
        "One server: p95 latency, 50 thinking carers (issue 14)",
        "≤ 300 ms",
        lambda r: (_level(r, 50) or {}).get("p95_ms"),
        lambda v: f"{v:.0f} ms",
        lambda v, r: v <= 300,
    ),
    Target(
        "One server: closed-loop throughput (issue 14)",
        "≥ 20 msg/s",
        lambda r: _get(r, "speed", "closed_loop", "best_messages_per_second"),
        lambda v: f"{v:.1f} msg/s",
        lambda v, r: v >= 20,
    ),
    Target(
        "Two servers behind nginx: closed loop, 0 errors (issue 14)",
        "≥ 40 msg/s",
        _cluster_loop,
        lambda v: f"{v:.1f} msg/s",
        lambda v, r: v >= 40,
    ),
    Target(
        "Cached retrain after one NLU example changes",
        "≤ 15 s",
        lambda r: _get(r, "training", "cached_seconds"),
        lambda v: f"{v:.0f} s",
        lambda v, r: v <= 15,
    ),
    Target(
        "Cold train (no cache) (issue 11)",
        "≤ 4 min",
        lambda r: _get(r, "training", "cold_seconds"),
        lambda v: f"{v:.0f} s ({v / 60:.1f} min)",
        lambda v, r: v <= 240,
    ),
    Target(
        "Rasa server peak RSS under load",
        "≤ 1.2 GB",
        lambda r: _get(r, "speed", "memory", "rasa", "peak_mb"),
        lambda v: f"{v:.0f} MiB ({v / 1024:.2f} GiB)",
        lambda v, r: v <= RASA_RSS_LIMIT_MB,
    ),
)


def target_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(what, target, result, verdict) for every target."""
    rows = []
    baseline = _baseline_accuracy(results) if _get(results, "nlu", "baseline") else None
    baseline_text = f"{baseline:.3f}" if baseline is not None else "not run"
    for target in TARGETS:
        value = target.value(results)
        if value is None:
            rows.append((target.label, target.wanted, "not measured", "not measured"))
            continue
        shown = target.shown(float(value)).replace("{baseline}", baseline_text)
        verdict = "met" if target.met(float(value), results) else "**NOT met**"
        rows.append((target.label, target.wanted, shown, verdict))
    return rows


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def _f(value: Any, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if isinstance(value, int | float) else "–"


def _wrong(nlu: dict[str, Any]) -> float | None:
    """Share answered with a wrong intent: not right, and not sent to nlu_fallback."""
    if "wrong_rate" in nlu:
        return float(nlu["wrong_rate"])
    accuracy, fallback = _get(nlu, "final", "accuracy"), nlu.get("fallback_rate")
    if accuracy is None or fallback is None:
        return None
    return 1 - float(accuracy) - float(fallback)


def _meta(results: dict[str, Any]) -> list[str]:
    meta = results.get("meta", {})
    machine = meta.get("machine", {})
    lines = [
        f"- **Date:** {meta.get('date', '?')} (whole run {meta.get('duration_seconds', '?')} s)",
        f"- **Machine:** {machine.get('cpu', '?')}, {machine.get('cores', '?')} cores, "
        f"{machine.get('ram_gb', '?')} GB RAM; load average {meta.get('load_before', '?')} "
        f"before and {meta.get('load_after', '?')} after the run",
        f"- **Commit:** `{meta.get('commit', '?')}`"
        + (" plus uncommitted changes" if meta.get("dirty") else ""),
        f"- **Software:** Python {meta.get('python', '?')}, Rasa {meta.get('rasa', '?')}, "
        f"scikit-learn {meta.get('sklearn', '?')}",
        "- **Command:** `make bench` (`python -m bench`)",
    ]
    if meta.get("quick"):
        lines.insert(0, "> **SMOKE RUN (`--quick`): tiny settings, these numbers mean nothing.**\n")
    if meta.get("busy_note"):
        lines.append(f"- **Note:** {meta['busy_note']}")
    # Set by hand when a section was re-run on its own and merged into latest.json.
    for key in ("cluster_note", "training_note", "sections_note"):
        if meta.get(key):
            lines.append(f"- **Note:** {meta[key]}")
    return lines


def _no_fallback_row(
    label: str, scores: dict[str, Any], crisis: dict[str, Any] | None = None
) -> list[str]:
    """A row for a model with no fallback: every miss is a wrong answer."""
    crisis = crisis or {}
    return [
        label,
        _f(scores["accuracy"]),
        _f(scores["macro_f1"]),
        "–",
        _f(1 - scores["accuracy"]),
        _f(crisis.get("recall")),
        _f(crisis.get("false_alarm_rate")),
    ]


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.1%})" if whole else "–"


def _buttons_and_timing(nlu: dict[str, Any]) -> list[str]:
    """The did-you-mean and second-topic buttons, the answer selector, the featurizer's time."""
    lines: list[str] = []
    dym = nlu.get("did_you_mean")
    if dym:
        lines += [
            "",
            '"Did you mean…?" buttons hold the right topic for '
            f"{_share(dym['holds_right_topic'], dym['shown'])} of the messages that reach them.",
        ]
    also = nlu.get("second_topic")
    if also:
        lines += [
            "",
            "Second-topic button after an answer (bot/nlu/follow_up.py `second_topic`): shown "
            f"after {_share(also['shown_after_right'], also['right'])} right answers and "
            f"{_share(also['shown_after_wrong'], also['wrong'])} wrong ones; it holds the "
            f"right topic for {_share(also['wrong_rescued'], also['wrong'])} of wrong answers.",
        ]
    marked = nlu.get("follow_up")
    if marked and marked.get("answered"):
        why = ", ".join(
            f"{k} {_share(n, marked['answered'])}" for k, n in marked["by_kind"].items()
        )
        lines += [
            "",
            "Action server calls after a topic answer (issue 14): the pipeline marks "
            f"{_share(marked['action_called'], marked['answered'])} of topic answers for "
            f"`action_follow_up` ({why or 'none'}); every other answer is one rule and one "
            "response.",
        ]
    timing = nlu.get("featurizer_ms")
    if timing:
        lines += [
            "",
            f"Sentence featurizer, one message at a time ({timing.get('n', '?')} messages): "
            f"p50 {timing['p50_ms']} ms, p95 {timing['p95_ms']} ms.",
        ]
    selector = nlu.get("selector")
    if selector and selector.get("examples"):
        lines += [
            "",
            "### Answer selector within the right topic",
            "",
            f"{selector['examples']} retrieval examples whose topic was right. *Top-1*: the "
            "selector's best answer key is the right one. *Delivered*: the carer got the right "
            "reply (the specific answer, or the overview for a general question).",
            "",
        ]
        rows = [
            [topic, c["n"], _f(c["top1"]), _f(c["delivered"])]
            for topic, c in selector["per_topic"].items()
        ]
        rows.append(
            ["**all**", selector["examples"], _f(selector["top1"]), _f(selector["delivered"])]
        )
        lines += _table(["Topic", "n", "Top-1", "Delivered"], rows)
    return lines


def _understanding(results: dict[str, Any]) -> list[str]:
    nlu = results.get("nlu")
    if not nlu:
        return ["Not run."]
    lines = [
        f"{nlu['examples']} examples, {nlu['intents']} intents, {nlu['folds']} stratified folds "
        f"(seed {nlu['seed']}, {nlu['folds_run']} run). Each fold trains the real pipeline of "
        "config.yml on the other folds and parses the held-out messages with `Agent.load`, as "
        "the server does. **Final** is the intent the assistant acts on (`nlu_fallback` counts "
        "as wrong); **classifier** is the classifier's own top intent, comparable with the "
        "baselines, trained on the same folds: TF-IDF word 1-2-grams + char 2-5-grams, and the "
        "pipeline's own MiniLM sentence vectors, each with logistic regression, C = 10, untuned.",
        "",
    ]
    base = nlu.get("baseline", {})
    rows = [
        [
            "Pipeline, final",
            _f(nlu["final"]["accuracy"]),
            _f(nlu["final"]["macro_f1"]),
            _f(nlu["fallback_rate"]),
            _f(_wrong(nlu)),
            _f(nlu["crisis"]["recall"]),
            _f(nlu["crisis"]["false_alarm_rate"]),
        ],
        _no_fallback_row("Pipeline, classifier", nlu["classifier"]),
    ]
    if base:
        rows.append(_no_fallback_row("Baseline, TF-IDF + LR", base, nlu.get("baseline_crisis")))
    if nlu.get("embedding_baseline"):
        rows.append(_no_fallback_row("Baseline, MiniLM + LR", nlu["embedding_baseline"]))
    lines += _table(
        [
            "",
            "Accuracy",
            "Macro-F1",
            "Fallback rate",
            "Wrong answer",
            "Crisis recall",
            "False crisis",
        ],
        rows,
    )
    lines += [
        "",
        "*Wrong answer*: the assistant acted on an intent other than the right one (neither a "
        'correct answer nor a "did you mean…?"); without a fallback every miss is one.',
    ]
    lines += _buttons_and_timing(nlu)
    lines += [
        "",
        f"Risk levels given to the held-out messages: {nlu.get('risk_levels', {})}. The graded "
        "risk set below, written by someone who never saw the patterns, is the honest figure.",
        f"Mean training time per fold (NLU only, in-process): {nlu['mean_fold_train_seconds']} s.",
        "",
        "Per-intent F1 (final / classifier / baseline), weakest first:",
        "",
    ]
    final = nlu["final"]["per_intent"]
    clf = nlu["classifier"]["per_intent"]
    baseline = base.get("per_intent", {})
    rows = []
    for intent in sorted(final, key=lambda name: (final[name]["f1"], name)):
        rows.append(
            [
                intent,
                final[intent]["support"],
                _f(final[intent]["f1"]),
                _f(clf.get(intent, {}).get("f1")),
                _f(baseline.get(intent, {}).get("f1")),
            ]
        )
    lines += _table(["Intent", "n", "F1 final", "F1 classifier", "F1 baseline"], rows)
    if nlu.get("confusions"):
        lines += ["", "Most frequent mistakes (gold → final):", ""]
        lines += _table(["Gold", "Final", "n"], [list(c) for c in nlu["confusions"]])
    risk = results.get("risk_eval")
    if risk:
        lines += ["", "### Graded risk set (tests/data/risk_eval/), full trained model", ""]
        rows = []
        for part, label in (
            ("test", "frozen test part"),
            ("dev", "development part"),
            ("dev2", "second development part (another hand)"),
        ):
            scores = risk.get(part)
            if scores:
                rows.append(
                    [
                        label,
                        scores["messages"],
                        _f(scores["acute_recall"]),
                        _f(scores["false_acute_rate"]),
                        _f(scores["concern_right_topic"]),
                    ]
                )
        lines += _table(
            ["Part", "Messages", "Acute recall", "Acute on concern/none", "Concern right topic"],
            rows,
        )
    lines += _specific(results.get("specific"))
    return lines


def _specific(specific: dict[str, Any] | None) -> list[str]:
    """The held-out lists of specific questions (bench/specific.py)."""
    if not specific:
        return []
    lines = ["", "### Specific questions (tests/data/heldout/), first reply over REST", ""]
    rows = [
        [
            name + (" (frozen)" if scores.get("frozen") else " (development)"),
            f"{scores['right']}/{scores['questions']}",
            _f(scores["share"]),
            f"{scores['gap_honest']}/{scores['gap_questions']}",
        ]
        for name, scores in sorted(specific.items())
    ]
    return lines + _table(["List", "Specific fact", "Share", "Honest gap answers"], rows)


def _speed(results: dict[str, Any]) -> list[str]:
    speed = results.get("speed")
    if not speed:
        return ["Not run."]
    lines = [
        "Real action server + Rasa (REST) + Telegram bridge on loopback, SQLite tracker store "
        "(masked) in a temporary folder, one Sanic worker. Carers think 1-3 s between messages "
        "and arrive at random moments over the first "
        f"{results.get('settings', {}).get('ramp_seconds', '?')} s; only messages sent after "
        "everyone has arrived count. Latency is end to end (request sent → all replies back).",
        "",
    ]
    rows = []

    def row(label: str, figures: dict[str, Any], rate: Any = "–") -> list[Any]:
        problems = sum(
            figures.get(key, 0) for key in ("errors", "empty_replies", "fallback_replies")
        )
        cpu = figures.get("rasa_cpu_ms")
        return [
            label,
            figures["requests"],
            rate,
            figures["p50_ms"],
            figures["p95_ms"],
            figures["p99_ms"],
            cpu if cpu is not None else "–",
            problems,
        ]

    if speed.get("parse"):
        rows.append(row("bare `/model/parse`, 1 at a time", speed["parse"]))
    if speed.get("sequential"):
        rows.append(row("REST conversations, 1 message at a time", speed["sequential"]))
    for level in speed.get("levels", []):
        label = f"{level['carers']} thinking carers"
        rows.append(row(label, level, level["messages_per_second"]))
    telegram = speed.get("telegram")
    if telegram:
        label = f"{telegram['chats']} Telegram chats via the bridge (first reply)"
        rows.append(row(label, telegram))
    lines += _table(
        [
            "Load",
            "Messages",
            "msg/s offered",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "Rasa CPU ms/msg",
            "Errors/empty/fallback",
        ],
        rows,
    )
    sequential = speed.get("sequential")
    if sequential and sequential.get("rasa_cpu_ms"):
        lines += [
            "",
            f"The Rasa process spends **{sequential['rasa_cpu_ms']} ms of CPU per REST message** "
            f"(the action server {sequential['actions_cpu_ms']} ms). One Sanic worker uses one "
            f"core, so it cannot exceed ~{sequential['single_core_ceiling_mps']} msg/s however "
            "quiet the machine is; CPU time hardly depends on the neighbours, wall-clock does.",
        ]
    loop = speed.get("closed_loop")
    if loop:
        lines += ["", "Closed loop (no thinking, `scripts/load.py` client):", ""]
        lines += _table(
            ["Concurrent conversations", "Messages", "Seconds", "msg/s", "p50 ms", "p95 ms"],
            [
                [
                    r["concurrency"],
                    r["requests"],
                    r["seconds"],
                    r["messages_per_second"],
                    r["p50_ms"],
                    r["p95_ms"],
                ]
                for r in loop["runs"]
            ],
        )
    return lines


def _scale_out(results: dict[str, Any]) -> list[str]:
    """One server beside two behind nginx: the same client, in the same run."""
    cluster, speed = results.get("cluster"), results.get("speed") or {}
    if not cluster:
        return ["Not run."]
    if cluster.get("skipped"):
        return [f"Skipped: {cluster['skipped']}."]

    def figures(section: dict[str, Any], level: dict[str, Any] | None) -> list[Any]:
        loop = section.get("closed_loop") or {}
        errors = sum(run.get("errors", 0) for run in loop.get("runs", []))
        errors += (level or {}).get("errors", 0)
        return [
            _get(section, "parse", "p50_ms") or "–",
            _get(section, "parse", "rasa_cpu_ms") or "–",
            _get(section, "sequential", "rasa_cpu_ms") or "–",
            (level or {}).get("p95_ms", "–"),
            loop.get("best_messages_per_second", "–"),
            errors,
        ]

    carers = (_cluster_level(results) or {}).get("carers", "?")
    header = [
        "",
        "bare `/model/parse` p50 ms (floor)",
        "parse CPU ms",
        "Rasa CPU ms per REST message",
        f"{carers} thinking carers p95 ms",
        "closed loop msg/s",
        "errors",
    ]
    rows = [
        ["one server (`make run`: SQLite, lock in memory)"]
        + figures(speed, _level(results, carers) if isinstance(carers, int) else None),
        [f"{cluster.get('servers', 2)} servers behind nginx (`make cluster`: PostgreSQL, Redis)"]
        + figures(cluster, _cluster_level(results)),
    ]
    return [
        "The same client functions as the speed section, in the same run, against the embedded "
        "stack and then against `bot.launcher.ClusterStack` (nginx on a free port, two Rasa "
        "servers, a throw-away PostgreSQL database, Redis). CPU per REST message adds up both "
        "servers; the parse floor is measured on one server directly. On this machine the two "
        "servers, nginx, PostgreSQL, the action server and the load client share 2 cores.",
        "",
        *_table(header, rows),
    ]


def _training(results: dict[str, Any]) -> list[str]:
    training = results.get("training")
    if not training:
        return ["Not run."]
    lines = [
        "`rasa train --augmentation 0` in a temporary copy of config, domain and data, with a "
        "fresh `--out` and a fresh `RASA_CACHE_DIRECTORY`; wall clock, including Python start-up "
        "and importing Rasa.",
        "",
    ]
    rows = [["Cold (nothing cached)", f"{training['cold_seconds']} s"]]
    if "cached_seconds" in training:
        rows.append(
            [
                f"Cached, after editing one example in `{training['edited_file']}`",
                f"{training['cached_seconds']} s",
            ]
        )
    rows.append(["Model size", f"{training['model_mb']} MB"])
    lines += _table(["Run", "Time"], rows)
    return lines


def _memory(results: dict[str, Any]) -> list[str]:
    memory = _get(results, "speed", "memory")
    if not memory:
        return ["Not run."]
    lines = [
        "Resident set size from /proc (process and children), sampled every 0.5 s through all "
        "speed phases, and the kernel's high-water mark (VmHWM); peak is the larger.",
        "",
    ]
    names = {"rasa": "Rasa server", "actions": "Action server", "telegram": "Telegram bridge"}
    rows = [
        [names.get(name, name), m["idle_mb"], m["peak_mb"]]
        for name, m in memory.items()
        if isinstance(m, dict)
    ]
    lines += _table(["Process", "After start-up (MiB)", "Peak under load (MiB)"], rows)
    return lines


def _pair(control: dict[str, Any], variant: dict[str, Any], key: str, digits: int) -> str:
    a, b = control.get(key), variant.get(key)
    if a is None or b is None:
        return "–"
    return f"{a:.{digits}f} → {b:.{digits}f}"


def _crisis_cell(scores: dict[str, Any] | None) -> str:
    if not scores:
        return "–"
    return f"{scores['recall']:.3f} / {scores['false_alarm_rate']:.3f}"


def _stories(control: dict[str, Any], variant: dict[str, Any]) -> str:
    a, b = control.get("stories"), variant.get("stories")
    if not a or not b or "total" not in a or "total" not in b:
        return "–"
    return f"{a['correct']}/{a['total']} → {b['correct']}/{b['total']}"


def _experiments(experiments: list[dict[str, Any]]) -> list[str]:
    if not experiments:
        return ["No experiments recorded yet (`python -m bench.experiments`)."]
    lines = [
        "Alternatives measured with temporary configs (config.yml untouched), on the same folds "
        "as above; `python -m bench.experiments NAME` re-runs one. Timings depend on how busy "
        "the machine was at the time (date and load average, 1/5/15 min, in the last column).",
        "",
    ]
    config_rows, speed_rows = [], []
    for e in experiments:
        measured = f"{e.get('date', '?')}, load {e.get('load', '?')}"
        if "speed" in e:
            control, variant = e["speed"]["control"], e["speed"]["variant"]
            speed_rows.append(
                [
                    e["name"],
                    e["change"],
                    _pair(control, variant, "rasa_cpu_ms", 1),
                    _pair(control, variant, "sequential_p50_ms", 0),
                    _pair(control, variant, "p95_ms_50_carers", 0),
                    _pair(control, variant, "closed_loop_mps", 1),
                    _pair(control, variant, "rasa_peak_mb", 0),
                    _stories(control, variant),
                    _crisis_cell(variant.get("crisis_eval")),
                    measured,
                ]
            )
            continue
        nlu = e.get("nlu", {})
        config_rows.append(
            [
                e["name"],
                e["change"],
                nlu.get("examples", "–"),
                _f(_get(nlu, "classifier", "accuracy")),
                _f(_get(nlu, "final", "accuracy")),
                _f(_get(nlu, "final", "macro_f1")),
                _f(nlu.get("fallback_rate")),
                _f(_wrong(nlu)),
                _f(_get(nlu, "crisis", "recall")),
                _crisis_cell(e.get("crisis_eval")),
                _f(nlu.get("mean_fold_train_seconds"), 1),
                _f(_get(e, "training", "cold_seconds"), 0),
                _f(_get(e, "training", "cached_seconds"), 0),
                measured,
            ]
        )
    if config_rows:
        lines += _table(
            [
                "Variant",
                "Change",
                "Examples",
                "Acc. classifier",
                "Acc. final",
                "Macro-F1 final",
                "Fallback",
                "Wrong",
                "Crisis recall (folds)",
                "Held-out crisis recall / false",
                "s/fold",
                "Cold s",
                "Cached s",
                "Measured",
            ],
            config_rows,
        )
    if speed_rows:
        lines += [
            "",
            "Speed experiments: each cell is control → variant, run back to back (same load).",
            "",
        ]
        lines += _table(
            [
                "Variant",
                "Change",
                "Rasa CPU ms/msg",
                "1 at a time p50 ms",
                "50 carers p95 ms",
                "Closed loop msg/s",
                "Rasa RSS MiB",
                "Test stories correct",
                "Held-out crisis recall / false (variant)",
                "Measured",
            ],
            speed_rows,
        )
    return lines


def render(
    results: dict[str, Any], experiments: list[dict[str, Any]] | None = None, notes: str = ""
) -> str:
    """The whole BENCHMARKS.md text."""
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`python -m bench`; code in `bench/`). Do not edit by hand: "
        "findings live in `bench/NOTES.md`, and experiments in `bench/experiments.py`.",
        "",
        *_meta(results),
        "",
        "## Targets",
        "",
        *_table(["What", "Target", "Result", "Verdict"], [list(r) for r in target_rows(results)]),
        "",
        "## Understanding (5-fold cross-validation)",
        "",
        *_understanding(results),
        "",
        "## Speed",
        "",
        *_speed(results),
        "",
        "## One server and two behind nginx",
        "",
        *_scale_out(results),
        "",
        "## Training time",
        "",
        *_training(results),
        "",
        "## Memory",
        "",
        *_memory(results),
        "",
        "## Experiments",
        "",
        *_experiments(experiments or []),
    ]
    if notes.strip():
        lines += ["", notes.strip()]
    return "\n".join(lines).rstrip() + "\n"
