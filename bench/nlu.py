"""Understanding: 5-fold cross-validation of the REAL NLU pipeline, next to the baseline.

For every fold the pipeline in config.yml (or a variant, for experiments) is trained on the
fold's training part with ``rasa.model_training.train_nlu``, loaded with ``Agent.load`` exactly
as the server loads a model, and every held-out message is parsed. Two predictions are kept:

* ``final``: the intent the server acts on (after FallbackClassifier and RiskAssessor), where
  ``nlu_fallback`` counts as wrong;
* ``classifier``: the classifier's own top intent (``bench.metrics.classifier_intent``),
  comparable to the baseline, which has no fallback.

``rasa test nlu`` cannot give the first: its report undoes fallback predictions.
The graded-risk set (tests/data/risk_eval/) is scored with the full trained model.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import logging
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from bench import FALLBACK_INTENT, REPO_ROOT, SEED
from bench.baseline import baseline_predict, embed_all, embedding_baseline_predict
from bench.metrics import classification_scores, classifier_intent, crisis_scores, mean
from bench.metrics import stratified_folds as make_folds

LOGGER = logging.getLogger("bench.nlu")
CONFIG = REPO_ROOT / "config.yml"
DOMAIN = REPO_ROOT / "domain.yml"
NLU_DATA = REPO_ROOT / "data" / "nlu"
RISK_EVAL = REPO_ROOT / "tests" / "data" / "risk_eval"

ConfigChange = Callable[[dict[str, Any]], None]


def quiet_rasa() -> None:
    """Rasa logs every parse (structlog, DEBUG) unless told; the benchmark needs warnings."""
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    for name in ("rasa", "rasa_sdk", "tensorflow", "absl", "apscheduler", "sanic"):
        logging.getLogger(name).setLevel(logging.WARNING)


def load_examples() -> Any:
    """All NLU examples from data/nlu, read by Rasa's own reader (lookups, synonyms kept)."""
    from rasa.shared.nlu.training_data.loading import load_data

    return load_data(str(NLU_DATA))


def write_config(path: Path, change: ConfigChange | None = None) -> Path:
    """config.yml, optionally changed in memory (experiments), written to ``path``."""
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    if change is not None:
        config = copy.deepcopy(config)
        change(config)
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def component(config: dict[str, Any], name: str) -> dict[str, Any]:
    """The (first) pipeline or policy entry called ``name``; KeyError if there is none."""
    for entry in [*config.get("pipeline", []), *config.get("policies", [])]:
        if entry.get("name") == name:
            return entry
    raise KeyError(name)


def quick_change(config: dict[str, Any]) -> None:
    """Smoke-run settings: a couple of epochs where a component has them (DIET, TED)."""
    for name in ("DIETClassifier", "TEDPolicy"):
        try:
            component(config, name)["epochs"] = 2
        except KeyError:
            continue


def _write_fold_data(data: Any, messages: list[Any], path: Path) -> None:
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.training_data import TrainingData

    subset = TrainingData(
        training_examples=messages,
        entity_synonyms=data.entity_synonyms,
        regex_features=data.regex_features,
        lookup_tables=data.lookup_tables,
    )
    RasaYAMLWriter().dump(str(path), subset)


def reply_record(parsed: dict[str, Any]) -> dict[str, Any]:
    """What the assistant does with one parsed message, by the actions' own code.

    ``suggested`` are the "did you mean…?" buttons (actions/fallback.py) when the message goes
    to the fallback; ``also`` is the second-topic button after an answer (bot/nlu/follow_up.py);
    ``answer`` is the selector's top key and ``delivered`` the answer actually sent: the
    specific one when the pipeline set the ``answer`` entity, otherwise the topic's overview.
    """
    from actions.fallback import suggested_intents
    from bot.nlu.follow_up import second_topic

    risk = parsed.get("risk") or {}
    intent = (parsed.get("intent") or {}).get("name")
    selected = (parsed.get("response_selector") or {}).get(intent) or {}
    answer = (selected.get("response") or {}).get("intent_response_key")
    specific = any(e.get("entity") == "answer" for e in parsed.get("entities") or [])
    fallback = intent == FALLBACK_INTENT
    ranking = parsed.get("intent_ranking") or []
    return {
        "ranking": [
            [r.get("name"), round(float(r.get("confidence") or 0), 4)] for r in ranking[:3]
        ],
        "final": intent,
        "classifier": classifier_intent(parsed),
        "risk": risk.get("level"),
        "answer": answer,
        "delivered": answer if specific else (f"{intent}/general" if answer else None),
        "suggested": suggested_intents(ranking) if fallback else [],
        "also": None if fallback or not intent else second_topic(parsed, intent),
        # What the pipeline marked for action_follow_up (bot/nlu/follow_up.py); [] = none.
        "follow_up": list((parsed.get("follow_up") or {}).get("kinds") or []),
    }


async def _parse_all(agent: Any, texts: list[str]) -> list[dict[str, Any]]:
    return [reply_record(await agent.parse_message(text)) for text in texts]


def _train_and_parse(
    config: Path, data_file: Path, out_dir: Path, texts: list[str]
) -> tuple[list[dict[str, Any]], float]:
    """Train one NLU model, load it like the server does, parse ``texts``."""
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    started = time.perf_counter()
    model = train_nlu(
        str(config), str(data_file), str(out_dir), fixed_model_name="fold", domain=str(DOMAIN)
    )
    train_seconds = time.perf_counter() - started
    if model is None:
        raise RuntimeError("rasa did not produce an NLU model")
    agent = Agent.load(model)
    parsed = asyncio.run(_parse_all(agent, texts))
    del agent
    gc.collect()
    return parsed, train_seconds


def cross_validate(
    change: ConfigChange | None = None,
    folds: int = 5,
    seed: int = SEED,
    max_folds: int | None = None,
    with_baseline: bool = True,
) -> dict[str, Any]:
    """Cross-validate the pipeline (config.yml with ``change`` applied) and the baseline.

    ``max_folds`` runs only the first few folds (the smoke run); the folds themselves are the
    same as in a full run.
    """
    quiet_rasa()
    data = load_examples()
    messages = list(data.intent_examples)
    texts = [str(m.get("text")) for m in messages]
    gold = [str(m.get("intent")) for m in messages]
    gold_answers = [m.get("intent_response_key") for m in messages]
    embeddings = embed_all(texts) if with_baseline else None
    test_folds = make_folds(gold, folds, seed)
    records: list[dict[str, Any]] = [{} for _ in messages]
    fold_stats: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="carers-bench-cv-") as tmp:
        work = Path(tmp)
        previous_cache = os.environ.get("RASA_CACHE_DIRECTORY")
        # A private cache: nothing from the project's .rasa/cache, nothing left behind.
        os.environ["RASA_CACHE_DIRECTORY"] = str(work / "cache")
        try:
            config = write_config(work / "config.yml", change)
            for number, test_idx in enumerate(test_folds[:max_folds]):
                test_set = set(test_idx)
                train_idx = [i for i in range(len(messages)) if i not in test_set]
                data_file = work / f"fold{number}.yml"
                _write_fold_data(data, [messages[i] for i in train_idx], data_file)
                LOGGER.info(
                    "fold %d/%d: training on %d examples", number + 1, folds, len(train_idx)
                )
                parsed, seconds = _train_and_parse(
                    config, data_file, work / f"out{number}", [texts[i] for i in test_idx]
                )
                fold_records = []
                for index, result in zip(test_idx, parsed, strict=True):
                    records[index] = {
                        "text": texts[index],
                        "gold": gold[index],
                        "gold_answer": gold_answers[index],
                        "fold": number,
                        **result,
                    }
                    fold_records.append(records[index])
                if with_baseline:
                    predicted = baseline_predict(
                        [texts[i] for i in train_idx],
                        [gold[i] for i in train_idx],
                        [texts[i] for i in test_idx],
                    )
                    for index, label in zip(test_idx, predicted, strict=True):
                        records[index]["baseline"] = label
                if embeddings is not None:
                    predicted = embedding_baseline_predict(
                        embeddings[train_idx], [gold[i] for i in train_idx], embeddings[test_idx]
                    )
                    for index, label in zip(test_idx, predicted, strict=True):
                        records[index]["embedding_baseline"] = label
                fold_stats.append(
                    {
                        "fold": number,
                        "train_examples": len(train_idx),
                        "test_examples": len(test_idx),
                        "train_seconds": round(seconds, 1),
                        "final_accuracy": classification_scores(
                            [r["gold"] for r in fold_records], [r["final"] for r in fold_records]
                        )["accuracy"],
                    }
                )
        finally:
            if previous_cache is None:
                os.environ.pop("RASA_CACHE_DIRECTORY", None)
            else:
                os.environ["RASA_CACHE_DIRECTORY"] = previous_cache
    done = [r for r in records if r]
    return summarise(done, fold_stats, folds, seed)


def summarise(
    records: list[dict[str, Any]], fold_stats: list[dict[str, Any]], folds: int, seed: int
) -> dict[str, Any]:
    """Scores from per-message records (pooled over the folds that ran)."""
    gold = [r["gold"] for r in records]
    final = [r["final"] for r in records]
    result: dict[str, Any] = {
        "folds": folds,
        "folds_run": len(fold_stats),
        "seed": seed,
        "examples": len(records),
        "intents": len(set(gold)),
        "classifier": classification_scores(gold, [r["classifier"] for r in records]),
        "final": classification_scores(gold, final),
        "fallback_rate": round(sum(p == FALLBACK_INTENT for p in final) / len(final), 4)
        if final
        else 0.0,
        # answered with the wrong intent (neither right nor "did you mean…?")
        "wrong_rate": round(
            sum(p not in (g, FALLBACK_INTENT) for g, p in zip(gold, final, strict=True))
            / len(final),
            4,
        )
        if final
        else 0.0,
        "risk_levels": dict(Counter(str(r.get("risk")) for r in records)),
        "crisis": crisis_scores(gold, final),
        "fold_stats": fold_stats,
        "mean_fold_train_seconds": round(mean([f["train_seconds"] for f in fold_stats]), 1),
        "confusions": top_confusions(gold, final),
        "records": records,
    }
    if records and all("baseline" in r for r in records):
        baseline = [r["baseline"] for r in records]
        result["baseline"] = classification_scores(gold, baseline)
        result["baseline_crisis"] = crisis_scores(gold, baseline)
    if records and all("embedding_baseline" in r for r in records):
        result["embedding_baseline"] = classification_scores(
            gold, [r["embedding_baseline"] for r in records]
        )
    result["did_you_mean"] = did_you_mean_scores(records)
    result["second_topic"] = second_topic_scores(records)
    result["follow_up"] = follow_up_scores(records)
    result["selector"] = selector_scores(records)
    return result


def featurizer_times_ms(texts: Sequence[str]) -> list[float]:
    """Milliseconds to encode each text on its own, as the server does for one message."""
    from bot.nlu.encoder import encoder

    model = encoder()
    model.encode(["warm up the graph for every bucket"])
    times = []
    for text in texts:
        started = time.perf_counter()
        model.encode([text])
        times.append((time.perf_counter() - started) * 1000)
    return times


def did_you_mean_scores(records: list[dict[str, Any]]) -> dict[str, Any]:
    """How often "did you mean…?" is shown, and how often its buttons hold the right topic."""
    shown = [r for r in records if r.get("final") == FALLBACK_INTENT]
    right = sum(1 for r in shown if r["gold"] in (r.get("suggested") or []))
    return {
        "shown": len(shown),
        "holds_right_topic": right,
        "share": round(right / len(shown), 4) if shown else 0.0,
    }


def second_topic_scores(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The second-topic button after an answer: how often, and whether it rescues a miss."""
    answered = [r for r in records if r.get("final") not in (None, FALLBACK_INTENT)]
    right = [r for r in answered if r["final"] == r["gold"]]
    wrong = [r for r in answered if r["final"] != r["gold"]]
    return {
        "answered": len(answered),
        "shown_after_right": sum(1 for r in right if r.get("also")),
        "right": len(right),
        "shown_after_wrong": sum(1 for r in wrong if r.get("also")),
        "wrong": len(wrong),
        "wrong_rescued": sum(1 for r in wrong if r.get("also") == r["gold"]),
    }


def follow_up_scores(records: list[dict[str, Any]]) -> dict[str, Any]:
    """How many topic answers the rules follow with ``action_follow_up`` (an action server
    call), and why; every other answer is one rule and one response."""
    answered = [r for r in records if str(r.get("final") or "").startswith("ask_")]
    kinds = Counter(kind for r in answered for kind in r.get("follow_up") or [])
    return {
        "answered": len(answered),
        "action_called": sum(1 for r in answered if r.get("follow_up")),
        "by_kind": dict(sorted(kinds.items())),
    }


def selector_scores(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The answer selector within the right topic (retrieval examples only), per topic.

    ``top1``: the selector's top key is the right one; ``delivered``: the carer got the right
    reply, the specific answer or, for a general question, the overview.
    """
    per_topic: dict[str, dict[str, int]] = {}
    for r in records:
        key = r.get("gold_answer")
        if not key or r.get("final") != r["gold"]:
            continue
        counts = per_topic.setdefault(r["gold"], {"n": 0, "top1": 0, "delivered": 0})
        counts["n"] += 1
        counts["top1"] += int(r.get("answer") == key)
        counts["delivered"] += int(r.get("delivered") == key)
    total = {k: sum(c[k] for c in per_topic.values()) for k in ("n", "top1", "delivered")}
    return {
        "examples": total["n"],
        "top1": round(total["top1"] / total["n"], 4) if total["n"] else 0.0,
        "delivered": round(total["delivered"] / total["n"], 4) if total["n"] else 0.0,
        "per_topic": {
            topic: {
                "n": c["n"],
                "top1": round(c["top1"] / c["n"], 4),
                "delivered": round(c["delivered"] / c["n"], 4),
            }
            for topic, c in sorted(per_topic.items())
        },
    }


def top_confusions(gold: list[str], predicted: list[str], limit: int = 10) -> list[list[Any]]:
    """The most frequent (gold, predicted, count) mistakes."""
    pairs = Counter((g, p) for g, p in zip(gold, predicted, strict=True) if g != p)
    return [[g, p, n] for (g, p), n in pairs.most_common(limit)]


def score_risk_eval(model: Path) -> dict[str, Any]:
    """The graded-risk evaluation set (tests/data/risk_eval) through the full trained model,
    frozen test part and development parts, scored as tests/test_risk_eval.py scores them."""
    from rasa.core.agent import Agent

    quiet_rasa()
    agent = Agent.load(str(model))
    result = {}
    # test.yml is frozen; dev*.yml are development parts (dev2.yml written later, by another hand)
    for path in sorted(RISK_EVAL.glob("*.yml")):
        part = path.stem
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        items = [(level, item) for level in ("acute", "concern", "none") for item in data[level]]
        parsed = asyncio.run(_parse_raw(agent, [item["text"] for _, item in items]))
        result[part] = risk_scores(
            [(lvl, item, p) for (lvl, item), p in zip(items, parsed, strict=True)]
        )
    del agent
    gc.collect()
    return result


async def _parse_raw(agent: Any, texts: list[str]) -> list[dict[str, Any]]:
    return [await agent.parse_message(text) for text in texts]


def risk_scores(parsed: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    """Acute recall, acute replies to concern/none, concern answered on the right topic."""
    levels = ("acute", "concern", "none")
    counts = {level: sum(1 for g, _, _ in parsed if g == level) for level in levels}
    acute_hits = sum(1 for g, _, p in parsed if g == "acute" and p["risk"]["level"] == "acute")
    false_acute = sum(1 for g, _, p in parsed if g != "acute" and p["risk"]["level"] == "acute")
    concern_ok = sum(
        1
        for g, item, p in parsed
        if g == "concern" and p["risk"]["level"] != "acute" and p["intent"]["name"] == item["topic"]
    )
    return {
        "messages": counts,
        "acute_recall": round(acute_hits / counts["acute"], 4),
        "false_acute_rate": round(false_acute / (counts["concern"] + counts["none"]), 4),
        "concern_right_topic": round(concern_ok / counts["concern"], 4),
        "acute_missed_reasons": [
            p["risk"]["reason"]
            for g, _, p in parsed
            if g == "acute" and p["risk"]["level"] != "acute"
        ],
    }
