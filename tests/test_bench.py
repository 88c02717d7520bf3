"""The pure parts of the benchmarks (issue 7): folds, scores, the baseline, the report.

Nothing here is timed and nothing trains Rasa or starts a server: `make bench` does that.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.baseline import baseline_predict
from bench.metrics import (
    classification_scores,
    classifier_intent,
    crisis_scores,
    latency_summary,
    stratified_folds,
)
from bench.nlu import (
    component,
    did_you_mean_scores,
    follow_up_scores,
    quick_change,
    reply_record,
    second_topic_scores,
    selector_scores,
    summarise,
)
from bench.report import render, target_rows
from bench.training import edit_one_example


def test_folds_cover_every_example_once_and_keep_intents_balanced() -> None:
    labels = ["a"] * 10 + ["b"] * 7 + ["c"] * 3
    folds = stratified_folds(labels, 5, seed=1)
    every = sorted(i for fold in folds for i in fold)
    assert every == list(range(len(labels)))
    for fold in folds:
        assert [labels[i] for i in fold].count("a") == 2
        assert 1 <= [labels[i] for i in fold].count("b") <= 2
    assert max(map(len, folds)) - min(map(len, folds)) <= 1
    assert stratified_folds(labels, 5, seed=1) == folds
    assert stratified_folds(labels, 5, seed=2) != folds


def test_scores_match_hand_computed_values() -> None:
    gold = ["a", "a", "a", "b", "b", "c"]
    pred = ["a", "a", "b", "b", "nlu_fallback", "a"]
    scores = classification_scores(gold, pred)
    assert scores["accuracy"] == pytest.approx(3 / 6, abs=1e-4)
    # a: precision 2/3, recall 2/3 -> F1 2/3; b: precision 1/2, recall 1/2 -> 1/2; c: 0.
    assert scores["per_intent"]["a"]["f1"] == pytest.approx(2 / 3, abs=1e-4)
    assert scores["per_intent"]["b"]["f1"] == pytest.approx(0.5, abs=1e-4)
    assert scores["per_intent"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert scores["macro_f1"] == pytest.approx((2 / 3 + 0.5 + 0) / 3, abs=1e-4)
    assert "nlu_fallback" not in scores["per_intent"]


def test_crisis_scores_count_misses_and_false_alarms() -> None:
    gold = ["express_crisis"] * 4 + ["greet"] * 5
    pred = ["express_crisis", "express_crisis", "express_crisis", "nlu_fallback"]
    pred += ["greet", "greet", "greet", "greet", "express_crisis"]
    scores = crisis_scores(gold, pred)
    assert scores["recall"] == 0.75
    assert scores["false_alarms"] == 1
    assert scores["false_alarm_rate"] == 0.2


def _ranking(*pairs: tuple[str, float]) -> list[dict[str, Any]]:
    return [{"name": name, "confidence": conf} for name, conf in pairs]


def test_classifier_intent_undoes_fallback_and_risk_assessor() -> None:
    plain = {"intent": {"name": "greet"}, "intent_ranking": _ranking(("greet", 0.9))}
    assert classifier_intent(plain) == "greet"
    fallback = {
        "intent": {"name": "nlu_fallback"},
        "intent_ranking": _ranking(("nlu_fallback", 0.55), ("ask_visiting", 0.4), ("greet", 0.3)),
    }
    assert classifier_intent(fallback) == "ask_visiting"
    # RiskAssessor put crisis on top and dropped the classifier's crisis entry (0.45, its best).
    rescued = {
        "intent": {"name": "express_crisis"},
        "intent_ranking": _ranking(
            ("express_crisis", 1.0),
            ("nlu_fallback", 0.55),
            ("express_distress", 0.3),
        ),
        "risk": {"level": "acute", "crisis_confidence": 0.45},
    }
    assert classifier_intent(rescued) == "express_crisis"
    # A pattern fired although the classifier preferred another intent.
    pattern = {
        "intent": {"name": "express_crisis"},
        "intent_ranking": _ranking(("express_crisis", 1.0), ("express_distress", 0.8)),
        "risk": {"level": "acute", "crisis_confidence": 0.1},
    }
    assert classifier_intent(pattern) == "express_distress"
    # Not acute: the classifier's crisis guess (0.6) was removed and the rest renormalised.
    demoted = {
        "intent": {"name": "ask_rights"},
        "intent_ranking": _ranking(("ask_rights", 0.9), ("ask_visiting", 0.1)),
        "risk": {"level": "concern", "crisis_confidence": 0.6},
    }
    assert classifier_intent(demoted) == "express_crisis"


def test_baseline_learns_a_tiny_dataset() -> None:
    texts = ["hello there", "hi", "hello", "good morning", "bye now", "goodbye", "see you", "bye"]
    labels = ["greet"] * 4 + ["goodbye"] * 4
    assert baseline_predict(texts, labels, ["hello friend", "goodbye then"]) == [
        "greet",
        "goodbye",
    ]


def test_latency_summary_uses_nearest_rank() -> None:
    summary = latency_summary([float(v) for v in range(1, 101)])
    assert summary == {"n": 100, "p50_ms": 50.0, "p95_ms": 95.0, "p99_ms": 99.0, "max_ms": 100.0}
    assert latency_summary([])["p95_ms"] == 0.0


def test_quick_change_touches_only_epochs() -> None:
    config = {
        "pipeline": [{"name": "WhitespaceTokenizer"}, {"name": "DIETClassifier", "epochs": 60}],
        "policies": [{"name": "TEDPolicy", "epochs": 40}, {"name": "RulePolicy"}],
    }
    quick_change(config)
    assert component(config, "DIETClassifier") == {"name": "DIETClassifier", "epochs": 2}
    assert component(config, "TEDPolicy")["epochs"] == 2
    assert component(config, "RulePolicy") == {"name": "RulePolicy"}


def test_edit_one_example_changes_exactly_one_line(tmp_path: Path) -> None:
    nlu = tmp_path / "data" / "nlu"
    nlu.mkdir(parents=True)
    original = 'version: "3.1"\nnlu:\n  - intent: ask_visiting\n    examples: |\n'
    original += "      - how do I visit\n      - visiting times\n"
    (nlu / "visiting.yml").write_text(original, encoding="utf-8")
    assert edit_one_example(tmp_path) == "how do I visit please"
    after = (nlu / "visiting.yml").read_text(encoding="utf-8").splitlines()
    changed = [
        pair for pair in zip(original.splitlines(), after, strict=True) if pair[0] != pair[1]
    ]
    assert changed == [("      - how do I visit", "      - how do I visit please")]


def _results() -> dict[str, Any]:
    records = [
        {"text": "hi", "gold": "greet", "final": "greet", "classifier": "greet"},
        {"text": "bye", "gold": "goodbye", "final": "nlu_fallback", "classifier": "goodbye"},
        {"text": "help", "gold": "express_crisis", "final": "express_crisis"},
    ]
    records[2]["classifier"] = "express_distress"
    records[2]["risk"] = "acute"
    for record, label in zip(records, ["greet", "greet", "greet"], strict=True):
        record["baseline"] = label
    nlu = summarise(records, [{"train_seconds": 10.0}], folds=5, seed=42)
    nlu.pop("records")
    return {
        "meta": {"date": "2026-01-01 00:00 UTC", "machine": {"cpu": "Test CPU", "cores": 2}},
        "nlu": nlu,
        "training": {
            "cold_seconds": 170.0,
            "cached_seconds": 40.0,
            "model_mb": 18.0,
            "edited_file": "data/nlu/visiting.yml",
        },
        "speed": {
            "levels": [
                {
                    "carers": 50,
                    "requests": 10,
                    "messages_per_second": 1.0,
                    "errors": 0,
                    "empty_replies": 0,
                    "fallback_replies": 0,
                    "p50_ms": 40.0,
                    "p95_ms": 90.0,
                    "p99_ms": 120.0,
                }
            ],
            "memory": {"rasa": {"idle_mb": 700.0, "peak_mb": 900.0}},
        },
    }


def test_report_puts_targets_beside_results_and_is_honest() -> None:
    results = _results()
    rows = {row[0]: row for row in target_rows(results)}
    assert rows["p95 latency, 50 thinking carers (issue 7)"][2:] == ("90 ms", "met")
    assert rows["One server: p95 latency, 50 thinking carers (issue 14)"][2:] == ("90 ms", "met")
    assert rows["Cached retrain after one NLU example changes"][3] == "**NOT met**"
    assert rows["Cold train (no cache) (issue 11)"][3] == "met"
    assert rows["Closed-loop throughput (issue 7)"][2:] == ("not measured", "not measured")
    assert rows["Two servers behind nginx: closed loop, 0 errors (issue 14)"][3] == "not measured"
    assert rows["Rasa server peak RSS under load"][3] == "met"
    # final accuracy 2/3 is below 0.92 even though it beats the baseline (1/3)
    final = rows["CV accuracy, final (after fallback and risk assessor) (issue 11)"]
    assert final[3] == "**NOT met**"
    assert "better baseline 0.333" in final[2]

    text = render(results, [], notes="## Findings\n\nSomething we tried.")
    assert text.startswith("# Benchmarks\n")
    assert "| Cold train (no cache) (issue 11) | ≤ 4 min | 170 s (2.8 min) | met |" in text
    assert "Test CPU, 2 cores" in text
    assert "## Findings" in text
    assert "SMOKE RUN" not in text
    results["meta"]["quick"] = True
    assert "SMOKE RUN" in render(results)


def _loop(rate: float, errors: int = 0) -> dict[str, Any]:
    run = {"concurrency": 4, "requests": 40, "seconds": 1.0, "messages_per_second": rate}
    run |= {"p50_ms": 100.0, "p95_ms": 200.0, "errors": errors}
    return {"runs": [run], "best_messages_per_second": rate}


def _phase(**figures: float) -> dict[str, Any]:
    latency = {"requests": 10, "p50_ms": 20.0, "p95_ms": 30.0, "p99_ms": 40.0}
    return latency | {"actions_cpu_ms": 2.0, "single_core_ceiling_mps": 30.0} | figures


def test_one_server_and_two_behind_nginx_are_reported_side_by_side() -> None:
    results = _results()
    results["speed"]["parse"] = _phase(rasa_cpu_ms=15.0)
    results["speed"]["sequential"] = _phase(rasa_cpu_ms=27.0)
    results["speed"]["closed_loop"] = _loop(22.0)
    level = {**results["speed"]["levels"][0], "p95_ms": 250.0}
    results["cluster"] = {
        "servers": 2,
        "parse": _phase(p50_ms=21.0, rasa_cpu_ms=15.5),
        "sequential": _phase(rasa_cpu_ms=33.0),
        "levels": [level],
        "closed_loop": _loop(41.0, errors=1),
    }
    rows = {row[0]: row for row in target_rows(results)}
    cpu = "Rasa CPU per REST message, as a multiple of the bare parse's (issue 14)"
    assert rows[cpu][2:] == ("1.80×", "met")
    assert rows["One server: closed-loop throughput (issue 14)"][2:] == ("22.0 msg/s", "met")
    # 41 msg/s, but with an error: the target is not met.
    two = rows["Two servers behind nginx: closed loop, 0 errors (issue 14)"]
    assert two[3] == "**NOT met**"
    text = render(results)
    assert (
        "| one server (`make run`: SQLite, lock in memory) | 20.0 | 15.0 | 27.0 | 90.0 | 22.0 | 0 |"
        in text
    )
    two_row = "| 2 servers behind nginx (`make cluster`: PostgreSQL, Redis) | 21.0 | 15.5 | 33.0 |"
    assert f"{two_row} 250.0 | 41.0 | 1 |" in text
    results["cluster"] = {"skipped": "nginx is not installed"}
    assert "Skipped: nginx is not installed." in render(results)


def test_every_experiment_applies_to_the_real_config(tmp_path: Path) -> None:
    """Each change still finds its components in config.yml, and config.yml is never written."""
    import yaml

    from bench.experiments import EXPERIMENTS
    from bench.nlu import CONFIG, write_config

    before = CONFIG.read_text(encoding="utf-8")
    original = yaml.safe_load(before)
    for experiment in EXPERIMENTS:
        for change in (experiment.config, experiment.model_config):
            changed = yaml.safe_load(write_config(tmp_path / "c.yml", change).read_text())
            if change is None:
                assert changed == original, experiment.name
    assert CONFIG.read_text(encoding="utf-8") == before


def test_experiments_render_in_their_own_tables() -> None:
    config_run = {
        "name": "diet-30-epochs",
        "change": "DIETClassifier epochs 60 → 30",
        "date": "2026-01-01 00:00 UTC",
        "load": "1.0, 1.0, 1.0",
        "nlu": _results()["nlu"],
        "training": {"cold_seconds": 120.0, "cached_seconds": 30.0},
    }
    figures = {
        "rasa_cpu_ms": 80.0,
        "sequential_p50_ms": 90.0,
        "p95_ms_50_carers": 300.0,
        "closed_loop_mps": 12.0,
        "rasa_peak_mb": 900.0,
    }
    speed_run = {
        "name": "in-memory-tracker",
        "change": "in-memory tracker store",
        "speed": {"control": figures, "variant": {**figures, "rasa_cpu_ms": 60.0}},
    }
    text = render(_results(), [config_run, speed_run])
    assert "| diet-30-epochs | DIETClassifier epochs 60 → 30 | 3 | 0.667 | 0.667 |" in text
    assert "| in-memory-tracker | in-memory tracker store | 80.0 → 60.0 | 90 → 90 |" in text


def test_reply_record_uses_the_actions_own_buttons() -> None:
    """The bench scores what the carer is shown, by the fallback and follow-up actions' code."""
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.4},
        {"name": "ask_visiting", "confidence": 0.3},
        {"name": "greet", "confidence": 0.2},
        {"name": "ask_travel_support", "confidence": 0.1},
    ]
    fallback = reply_record({"intent": ranking[0], "intent_ranking": ranking})
    assert fallback["suggested"] == ["ask_visiting", "ask_travel_support"]
    assert fallback["also"] is None and fallback["delivered"] is None

    ranking = [
        {"name": "ask_visiting_children", "confidence": 0.6},
        {"name": "ask_travel_support", "confidence": 0.3},
    ]
    selected = {"response": {"intent_response_key": "ask_visiting_children/child_visit_process"}}
    parsed = {
        "intent": ranking[0],
        "intent_ranking": ranking,
        "entities": [{"entity": "answer", "value": "child_visit_process"}],
        "response_selector": {"ask_visiting_children": selected},
        "risk": {"level": "none"},
    }
    answered = reply_record(parsed)
    assert answered["also"] == "ask_travel_support"
    assert answered["delivered"] == "ask_visiting_children/child_visit_process"
    parsed["entities"] = []
    assert reply_record(parsed)["delivered"] == "ask_visiting_children/general"
    assert answered["follow_up"] == []  # the mark is the pipeline's: absent here
    parsed["follow_up"] = {"kinds": ["hospital", "also"], "also": "ask_travel_support"}
    assert reply_record(parsed)["follow_up"] == ["hospital", "also"]


def test_follow_up_scores_count_the_action_server_calls_after_answers() -> None:
    records = [
        {"final": "ask_visiting", "follow_up": ["hospital", "also"]},
        {"final": "ask_rights", "follow_up": ["concern"]},
        {"final": "ask_rights", "follow_up": []},
        {"final": "ask_rights"},
        {"final": "nlu_fallback", "follow_up": []},
        {"final": "greet", "follow_up": []},
    ]
    assert follow_up_scores(records) == {
        "answered": 4,
        "action_called": 2,
        "by_kind": {"also": 1, "concern": 1, "hospital": 1},
    }


def test_button_and_selector_scores() -> None:
    def rec(gold: str, final: str, **extra: Any) -> dict[str, Any]:
        return {"gold": gold, "final": final} | extra

    records = [
        rec("ask_visiting", "nlu_fallback", suggested=["ask_visiting", "ask_rights"]),
        rec("ask_rights", "nlu_fallback", suggested=["ask_visiting"]),
        rec("ask_rights", "ask_visiting", also="ask_rights"),
        rec("ask_rights", "ask_transitions", also=None),
        rec(
            "ask_visiting",
            "ask_visiting",
            also="ask_rights",
            gold_answer="ask_visiting/bring_money",
            answer="ask_visiting/bring_money",
            delivered="ask_visiting/general",
        ),
        rec(
            "ask_visiting",
            "ask_visiting",
            gold_answer="ask_visiting/general",
            answer="ask_visiting/book_visit",
            delivered="ask_visiting/general",
        ),
    ]
    assert did_you_mean_scores(records) == {"shown": 2, "holds_right_topic": 1, "share": 0.5}
    assert second_topic_scores(records) == {
        "answered": 4,
        "shown_after_right": 1,
        "right": 2,
        "shown_after_wrong": 1,
        "wrong": 2,
        "wrong_rescued": 1,
    }
    selector = selector_scores(records)
    assert (selector["examples"], selector["top1"], selector["delivered"]) == (2, 0.5, 0.5)


def test_specific_scoring_reads_text_and_buttons_and_hides_frozen_misses() -> None:
    from bench.specific import is_right, reply_text, score

    reply = reply_text(
        [
            {"text": "Broadmoor asks for at least 5 days’ notice."},
            {"text": "Which hospital is it?", "buttons": [{"title": "Rampton", "payload": "x"}]},
        ]
    )
    assert "5 days' notice" in reply and "rampton" in reply
    items = [
        {"text": "how much notice", "topic": "ask_visiting", "must_mention": ["5 days"]},
        {"text": "visits at rampton", "topic": "ask_visiting", "must_mention": ["gifts desk"]},
        {"text": "can I see his notes", "topic": "ask_confidentiality", "unanswerable": True},
    ]
    replies = [reply, reply, "i don't have reliable information on that. ask the ward."]
    assert is_right(items[0], reply) and not is_right(items[1], reply)
    assert is_right(items[2], replies[2]) and not is_right(items[2], reply)
    dev = score(items, replies, frozen=False)
    assert (dev["right"], dev["questions"], dev["gap_honest"]) == (1, 2, 1)
    assert dev["per_topic"] == {"ask_visiting": "1/2"}
    assert [m["text"] for m in dev["missed"]] == ["visits at rampton"]
    assert score(items, replies, frozen=True)["missed"] == []  # never shown: nobody tunes on it
