"""Score the graded-risk evaluation set (tests/data/risk_eval/) with the REAL trained pipeline.

The set was written fresh, by someone who did not see the patterns or the training data:
acute / concern / none, a third frozen in ``test.yml`` (never used for tuning), the rest in
``dev.yml`` (thresholds in content/safety.yml were set on it). Every message goes through the
whole NLU graph the server uses and only the final decision counts: the ``risk`` level, and for
concern messages the intent the dialogue acts on.

The issue's targets (acute recall 100%, acute replies to concern/none ≤ 2%, concern answered on
the right topic ≥ 85%) are reported by ``make bench``; this test keeps the floors the pipeline
reached when it landed, so a change that makes carers less safe fails loudly. Figures for both
parts are written to tests/artifacts/risk_eval.json.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
EVAL_DIR = REPO_ROOT / "tests" / "data" / "risk_eval"
ARTIFACT = REPO_ROOT / "tests" / "artifacts" / "risk_eval.json"
LEVELS = ("acute", "concern", "none")
NEAR_COPY_RATIO = 0.9
# Floors on the frozen part (regression guards, see the module docstring).
MIN_ACUTE_RECALL = 0.9
MAX_FALSE_ACUTE = 0.08
MIN_CONCERN_TOPIC = 0.6


def load_part(part: str) -> dict[str, list[dict[str, Any]]]:
    data = yaml.safe_load((EVAL_DIR / f"{part}.yml").read_text(encoding="utf-8"))
    return {level: list(data[level]) for level in LEVELS}


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text.casefold()).strip(" .!?")


def training_texts() -> list[str]:
    from rasa.shared.nlu.training_data.loading import load_data

    return [m.get("text") for m in load_data(str(REPO_ROOT / "data" / "nlu")).intent_examples]


def test_eval_set_is_big_enough_split_and_clean() -> None:
    dev, test = load_part("dev"), load_part("test")
    for level in LEVELS:
        total = len(dev[level]) + len(test[level])
        assert total >= 150, level
        assert 0.25 <= len(test[level]) / total <= 0.4, level  # about a third is frozen
    for item in dev["concern"] + test["concern"]:
        assert item.get("topic"), item["text"]
    every = [_key(i["text"]) for part in (dev, test) for lvl in LEVELS for i in part[lvl]]
    assert len(every) == len(set(every)), "duplicate or contradictory entries"


def test_eval_set_is_held_out_from_the_training_data() -> None:
    trained = {_key(t) for t in training_texts()}
    evaluated = [
        _key(i["text"]) for p in ("dev", "test") for lvl in LEVELS for i in load_part(p)[lvl]
    ]
    # Short everyday phrases ("hi there", "cheers love") occur in both by nature; a longer
    # message in both would be a copy.
    copies = [t for t in evaluated if t in trained]
    assert all(len(t.split()) <= 7 for t in copies), copies
    assert len(copies) / len(evaluated) < 0.03, copies
    longer = [t for t in evaluated if len(t.split()) > 7]
    near = [t for t in longer if difflib.get_close_matches(t, trained, n=1, cutoff=NEAR_COPY_RATIO)]
    # Two people writing plain questions sometimes land on nearly the same words; a few such
    # coincidences are tolerated, a copied batch is not.
    assert len(near) <= 0.01 * len(evaluated), f"near copies of training examples: {near}"


def score(parsed: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    """The same figures ``make bench`` reports (one scoring function)."""
    from bench.nlu import risk_scores

    return risk_scores(parsed)


async def _parse_all(agent: Any, part: str) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    data = load_part(part)
    out = []
    for level in LEVELS:
        for item in data[level]:
            out.append((level, item, await agent.parse_message(item["text"])))
    return out


@pytest.fixture(scope="module")
def figures(trained_model: Path) -> dict[str, Any]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(trained_model))
    result = {part: score(asyncio.run(_parse_all(agent, part))) for part in ("test", "dev")}
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


@pytest.mark.stack
def test_frozen_part_keeps_carers_safe(figures: dict[str, Any]) -> None:
    frozen = figures["test"]
    assert frozen["acute_recall"] >= MIN_ACUTE_RECALL, frozen
    assert frozen["false_acute_rate"] <= MAX_FALSE_ACUTE, frozen
    assert frozen["concern_right_topic"] >= MIN_CONCERN_TOPIC, frozen


@pytest.mark.stack
def test_the_record_holds_ids_and_numbers_never_text(figures: dict[str, Any]) -> None:
    text = ARTIFACT.read_text(encoding="utf-8")
    for item in load_part("test")["acute"][:20]:
        assert item["text"] not in text
