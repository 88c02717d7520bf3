"""Pure scoring helpers: folds, accuracy, macro-F1, per-intent F1, latency summaries.

Written out (rather than scikit-learn's report) so the exact definitions are visible and
tested: macro-F1 averages over the intents that occur in the gold labels, and a prediction of
``nlu_fallback`` simply counts as wrong for the gold intent (it is nobody's correct answer).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from functools import cache
from types import ModuleType
from typing import Any

from bench import CRISIS_INTENT, REPO_ROOT, import_file


@cache
def load_script() -> ModuleType:
    """scripts/load.py (the load test) as a module: its percentile and messages are reused."""
    return import_file(REPO_ROOT / "scripts" / "load.py", "carers_load_script")


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile, the same definition the load test uses."""
    return float(load_script().percentile(values, share))


def latency_summary(values_ms: Sequence[float]) -> dict[str, float | int]:
    """p50/p95/p99/max of a list of latencies in milliseconds (0 when empty)."""
    return {
        "n": len(values_ms),
        "p50_ms": round(percentile(values_ms, 0.50), 1),
        "p95_ms": round(percentile(values_ms, 0.95), 1),
        "p99_ms": round(percentile(values_ms, 0.99), 1),
        "max_ms": round(max(values_ms), 1) if values_ms else 0.0,
    }


def stratified_folds(labels: Sequence[str], k: int, seed: int) -> list[list[int]]:
    """Split indices into ``k`` test folds, each intent spread evenly, reproducibly.

    Within each intent the indices are shuffled with ``seed`` and dealt round-robin, starting
    where the previous intent stopped, so fold sizes differ by at most one overall.
    """
    if k < 2:
        raise ValueError("need at least two folds")
    by_label: dict[str, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        by_label[label].append(index)
    rng = random.Random(seed)
    folds: list[list[int]] = [[] for _ in range(k)]
    position = 0
    for label in sorted(by_label):
        indices = by_label[label]
        rng.shuffle(indices)
        for index in indices:
            folds[position % k].append(index)
            position += 1
    return [sorted(fold) for fold in folds]


def classification_scores(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 over the gold intents, and precision/recall/F1 per gold intent."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    if not gold:
        return {"n": 0, "accuracy": 0.0, "macro_f1": 0.0, "per_intent": {}}
    true_pos: Counter[str] = Counter()
    pred_count: Counter[str] = Counter(predicted)
    gold_count: Counter[str] = Counter(gold)
    for g, p in zip(gold, predicted, strict=True):
        if g == p:
            true_pos[g] += 1
    per_intent: dict[str, dict[str, float | int]] = {}
    for intent in sorted(gold_count):
        tp = true_pos[intent]
        precision = tp / pred_count[intent] if pred_count[intent] else 0.0
        recall = tp / gold_count[intent]
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[intent] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": gold_count[intent],
        }
    accuracy = sum(true_pos.values()) / len(gold)
    macro_f1 = sum(float(v["f1"]) for v in per_intent.values()) / len(per_intent)
    return {
        "n": len(gold),
        "accuracy": round(accuracy, 4),
        "macro_f1": round(macro_f1, 4),
        "per_intent": per_intent,
    }


def crisis_scores(
    gold: Sequence[str], predicted: Sequence[str], crisis: str = CRISIS_INTENT
) -> dict[str, Any]:
    """Recall on crisis messages and the false-alarm rate on everything else."""
    crisis_pairs = [(g, p) for g, p in zip(gold, predicted, strict=True) if g == crisis]
    calm_pairs = [(g, p) for g, p in zip(gold, predicted, strict=True) if g != crisis]
    caught = sum(p == crisis for _, p in crisis_pairs)
    alarms = sum(p == crisis for _, p in calm_pairs)
    return {
        "crisis_total": len(crisis_pairs),
        "caught": caught,
        "recall": round(caught / len(crisis_pairs), 4) if crisis_pairs else 0.0,
        "not_crisis_total": len(calm_pairs),
        "false_alarms": alarms,
        "false_alarm_rate": round(alarms / len(calm_pairs), 4) if calm_pairs else 0.0,
    }


def classifier_intent(parsed: dict[str, Any], fallback: str = "nlu_fallback") -> str | None:
    """The intent the classifier itself ranked first, undoing FallbackClassifier and RiskAssessor.

    FallbackClassifier puts ``nlu_fallback`` on top of the ranking. RiskAssessor puts
    ``express_crisis`` at 1.0 on top when acute, or removes it (renormalising the rest) when not,
    and records the classifier's own crisis confidence (``risk.crisis_confidence``). Rebuild the
    classifier's ranking from that and take its top.
    """
    ranking = [dict(item) for item in parsed.get("intent_ranking") or [] if isinstance(item, dict)]
    risk = parsed.get("risk") or {}
    confidence = risk.get("crisis_confidence")
    if risk.get("level") == "acute" and ranking and ranking[0].get("confidence") == 1.0:
        ranking = ranking[1:]  # the entry RiskAssessor added
    if confidence is not None and not any(i.get("name") == CRISIS_INTENT for i in ranking):
        if risk.get("level") != "acute":  # the rest was renormalised without the crisis share
            for item in ranking:
                item["confidence"] = float(item.get("confidence") or 0.0) * (1 - confidence)
        ranking.append({"name": CRISIS_INTENT, "confidence": float(confidence)})
    ranking = [item for item in ranking if item.get("name") != fallback]
    if not ranking:
        intent = parsed.get("intent") or {}
        return intent.get("name")
    best = max(ranking, key=lambda item: float(item.get("confidence") or 0.0))
    return best.get("name")


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0
