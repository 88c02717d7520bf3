"""Score the held-out crisis set (tests/data/crisis_eval.yml) with the REAL trained pipeline.

Every message goes through the whole NLU graph the server uses (DIET, FallbackClassifier, then
SafetyNet), and only the FINAL intent counts. ``rasa test nlu`` cannot do this: it undoes
fallback predictions, which hides exactly the failure we guard against (a crisis that became
``nlu_fallback``). Gate: crisis recall 100% and false-crisis rate at most 3%.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
EVAL_FILE = REPO_ROOT / "tests" / "data" / "crisis_eval.yml"
TRAINING_FILE = REPO_ROOT / "data" / "nlu" / "feelings.yml"
ARTIFACT = REPO_ROOT / "tests" / "artifacts" / "crisis_eval.json"
CRISIS = "express_crisis"
MAX_FALSE_CRISIS_RATE = 0.03
NEAR_COPY_RATIO = 0.8  # difflib ratio at or above which two sentences count as copies


def load_eval() -> dict[str, list[str]]:
    data = yaml.safe_load(EVAL_FILE.read_text(encoding="utf-8"))
    return {"crisis": list(data["crisis"]), "not_crisis": list(data["not_crisis"])}


def training_examples(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    examples: list[str] = []
    for block in data.get("nlu", []):
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- "):
                examples.append(line[2:].strip())
    return examples


def _key(text: str) -> str:
    """Case and spacing do not make a new sentence (invisible characters do: they are tests)."""
    return re.sub(r"\s+", " ", text.casefold()).strip(" .!?")


def test_eval_set_is_big_enough_and_clean() -> None:
    sets = load_eval()
    assert len(sets["crisis"]) >= 90
    assert len(sets["not_crisis"]) >= 65
    every = [_key(t) for t in sets["crisis"] + sets["not_crisis"]]
    assert len(every) == len(set(every)), "duplicate or contradictory entries in the eval set"


def test_eval_set_is_held_out_from_the_training_data() -> None:
    """No exact or near-exact copies of the feelings training examples (DIET has seen those)."""
    trained = {_key(t): t for t in training_examples(TRAINING_FILE)}
    copies = []
    for text in load_eval()["crisis"] + load_eval()["not_crisis"]:
        key = _key(text)
        for trained_key, original in trained.items():
            ratio = difflib.SequenceMatcher(None, key, trained_key).ratio()
            if ratio >= NEAR_COPY_RATIO:
                copies.append((round(ratio, 2), text, original))
    assert not copies, f"eval items copied from data/nlu/feelings.yml: {copies}"


@pytest.fixture(scope="module")
def agent(trained_model: Path):
    """The trained model loaded once, exactly as `rasa run` would load it."""
    from rasa.core.agent import Agent

    return Agent.load(str(trained_model))


async def _final_intents(agent: Any, texts: list[str]) -> list[dict[str, Any]]:
    results = []
    for text in texts:
        parsed = await agent.parse_message(text)
        net = parsed.get("safety_net") or {}
        results.append(
            {
                "text": text,
                "intent": (parsed.get("intent") or {}).get("name"),
                # what DIET + FallbackClassifier said before the safety net stepped in
                "before_safety_net": net.get("previous_intent")
                or (parsed.get("intent") or {}).get("name"),
                "safety_net_source": net.get("source"),
                "pattern_id": net.get("pattern_id"),
            }
        )
    return results


async def test_crisis_recall_and_false_alarms_on_the_full_pipeline(agent: Any) -> None:
    sets = load_eval()
    crisis = await _final_intents(agent, sets["crisis"])
    calm = await _final_intents(agent, sets["not_crisis"])

    misses = [r["text"] for r in crisis if r["intent"] != CRISIS]
    false_alarms = [
        {"text": r["text"], "source": r["safety_net_source"], "pattern_id": r["pattern_id"]}
        for r in calm
        if r["intent"] == CRISIS
    ]
    recall = 1 - len(misses) / len(crisis)
    false_rate = len(false_alarms) / len(calm)
    classifier_recall = sum(r["before_safety_net"] == CRISIS for r in crisis) / len(crisis)
    by_source: dict[str, int] = {}
    for r in crisis:
        source = r["safety_net_source"] or "none"
        by_source[source] = by_source.get(source, 0) + 1

    figures = {
        "crisis_total": len(crisis),
        "not_crisis_total": len(calm),
        "recall": round(recall, 4),
        "false_crisis_rate": round(false_rate, 4),
        "misses": misses,
        "false_alarms": false_alarms,
        "classifier_only_recall": round(classifier_recall, 4),
        "crisis_caught_by": by_source,
        "classifier_only_nlu_fallback": sum(
            r["before_safety_net"] == "nlu_fallback" for r in crisis
        ),
    }
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(
        f"\ncrisis recall {recall:.1%} ({len(crisis) - len(misses)}/{len(crisis)}), "
        f"false crisis {false_rate:.1%} ({len(false_alarms)}/{len(calm)}), "
        f"classifier alone {classifier_recall:.1%}; caught by {by_source}"
    )
    for text in misses:
        print(f"  MISSED: {text}")
    for alarm in false_alarms:
        print(f"  FALSE ALARM ({alarm['source']} {alarm['pattern_id']}): {alarm['text']}")

    assert not misses, f"crisis messages missed: {misses}"
    assert false_rate <= MAX_FALSE_CRISIS_RATE, f"too many false alarms: {false_alarms}"
