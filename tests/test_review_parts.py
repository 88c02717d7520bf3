"""The review tool's parts without servers: reading the queue from events, grouping, warnings,
saving valid NLU data, and the questions asked (scripted answers).

Events are written as Rasa stores them (``event``, ``text``, ``parse_data``, slot values), in the
shapes seen in a real store: the two-stage fallback's revert-and-relog of a tap, a give-up, a vote.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data

from bot.review.checks import Context, check_text
from bot.review.groups import Group, best_guesses, cluster_labels, group_items
from bot.review.labels import TrainingIndex, assignable_labels, resolve
from bot.review.queue import (
    DID_YOU_MEAN,
    FINAL_FALLBACK,
    LOW_CONFIDENCE,
    VOTED_DOWN,
    QueueItem,
    queue_from_events,
)
from bot.review.save import NeedsAnswer, needs_answer_texts, save_needs_answer, save_reviewed
from bot.review.session import Reviewer, summary


def user(text: str, intent: str, confidence: float, channel: str = "rest", **parse: Any) -> dict:
    ranking = parse.pop("ranking", [{"name": intent, "confidence": confidence}])
    return {
        "event": "user",
        "text": text,
        "input_channel": channel,
        "parse_data": {
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": ranking,
            **parse,
        },
    }


def action(name: str) -> dict:
    return {"event": "action", "name": name}


def slot(name: str, value: Any) -> dict:
    return {"event": "slot", "name": name, "value": value}


FALLBACK_RANKING = [
    {"name": "nlu_fallback", "confidence": 0.55},
    {"name": "ask_visiting", "confidence": 0.3},
    {"name": "express_crisis", "confidence": 0.2},
    {"name": "ask_rights", "confidence": 0.1},
]


def test_fallback_tap_and_vote_down_queue_the_typed_message() -> None:
    events = [
        {"event": "session_started"},
        user("can I take money in", "nlu_fallback", 0.55, ranking=FALLBACK_RANKING),
        action("action_two_stage_fallback"),
        user("/ask_visiting", "ask_visiting", 1.0),
        action("action_two_stage_fallback"),
        {"event": "rewind"},
        user("/ask_visiting", "ask_visiting", 1.0),
        action("utter_visiting"),
        user("thanks", "thank", 0.99),
        action("utter_thank"),
        user("/deny", "deny", 1.0),
        action("action_record_feedback"),
        slot("helpful_vote", {"topic": "ask_visiting", "vote": "down"}),
    ]
    [item] = queue_from_events([events])
    assert item.text == "can I take money in"
    assert item.reasons == {DID_YOU_MEAN, VOTED_DOWN}
    assert item.chosen == "ask_visiting"
    assert item.ranking[1] == ("ask_visiting", 0.3)


def test_give_up_low_confidence_and_typed_vote() -> None:
    events = [
        user("where can I eat", "nlu_fallback", 0.55),
        action("action_two_stage_fallback"),
        user("is there a canteen", "nlu_fallback", 0.55),
        action("action_two_stage_fallback"),
        {"event": "rewind"},
        user("is there a canteen", "ask_visiting", 0.62),  # typed again: a new message
        action("utter_visiting"),
        user("what are my rights", "ask_rights", 0.95),
        action("utter_rights"),
        user("thank you", "thank", 0.99),
        action("utter_thank"),
        user("no", "deny", 0.99),
        slot("helpful_vote", {"topic": "ask_rights", "vote": "down"}),
    ]
    items = queue_from_events([events], low_confidence=0.7)
    assert [(i.text, i.reasons) for i in items] == [
        ("where can I eat", {DID_YOU_MEAN}),
        ("is there a canteen", {FINAL_FALLBACK}),
        ("is there a canteen", {LOW_CONFIDENCE}),
        ("what are my rights", {VOTED_DOWN}),
    ]


def test_crisis_taps_staff_tests_and_known_texts_are_never_queued() -> None:
    crisis_reply = {"event": "bot", "text": "...", "metadata": {"utter_action": "utter_crisis"}}
    events = [
        user("I want it all to be over", "express_crisis", 0.4),  # low confidence, still crisis
        user("on the bridge", "nlu_fallback", 0.55, risk={"level": "acute", "reason": "p1"}),
        user("no way out", "nlu_fallback", 0.55),
        crisis_reply,
        user("/ask_visiting", "ask_visiting", 0.3),
        user("parrot on the ward?", "nlu_fallback", 0.55, channel="cmdline"),
        user("how do visits work", "nlu_fallback", 0.55),
        user("a question about leave", "nlu_fallback", 0.55, risk={"level": "concern"}),
    ]
    items = queue_from_events([events], known={"how do visits work"})
    assert [item.text for item in items] == ["a question about leave"]


def test_stored_text_is_masked_again_and_made_printable() -> None:
    [item] = queue_from_events([[user("call 07700 900123\x1b[2J now", "nlu_fallback", 0.55)]])
    assert item.text == "call [phone][2J now"


def test_groups_from_vectors_and_best_guesses() -> None:
    assert cluster_labels(np.array([[1.0, 0.0], [0.96, 0.28], [0.0, 1.0]])) == [1, 1, 2]
    items = [
        QueueItem("a", {DID_YOU_MEAN}, (("nlu_fallback", 0.55), ("ask_visiting", 0.4))),
        QueueItem(
            "b",
            {DID_YOU_MEAN},
            (("ask_visiting", 0.6), ("express_crisis", 0.3), ("ask_rights", 0.1)),
            answers={"ask_visiting": "ask_visiting/bring_money"},
        ),
    ]
    guesses = best_guesses(items)
    assert [(g.label, round(g.confidence, 2)) for g in guesses] == [
        ("ask_visiting/bring_money", 0.5),
        ("ask_rights", 0.05),
    ]


def test_group_items_puts_similar_texts_together_largest_first() -> None:
    vectors = {"money?": [1.0, 0.0], "cash?": [0.95, 0.31], "dog?": [0.0, 1.0]}

    def encode(texts: list[str]) -> np.ndarray:
        return np.array([vectors[text] for text in texts])

    items = [QueueItem(text, {DID_YOU_MEAN}) for text in ("dog?", "money?", "Cash?", "money?")]
    groups = group_items(items, encode)
    assert [group.texts for group in groups] == [[("money?", 2), ("Cash?", 1)], [("dog?", 1)]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my son Jamie is at Rampton since March", {("name", "Jamie"), ("place", "Rampton")}),
        ("my daughter sarah keeps crying", {("name", "sarah")}),
        ("he was convicted of arson in Leeds", {("offence detail", "convicted")}),
        ("can I visit on Tuesday 3rd", {("date", "Tuesday"), ("date", "3rd")}),
        ("call me on [phone]", {("masked detail", "[phone]")}),
        ("is reading allowed on the ward", set()),
        ("How do I visit my son? He is in hospital.", set()),
    ],
)
def test_warnings_for_identifying_details(text: str, expected: set[tuple[str, str]]) -> None:
    context = Context(["Rampton", "Leeds", "Reading"], known_words=["crying"])
    found = {(warning.kind, warning.found) for warning in check_text(text, context)}
    assert expected <= found
    if not expected:
        assert found == set()


def test_reviewed_file_is_valid_nlu_data_and_merges(tmp_path: Path) -> None:
    path = tmp_path / "reviewed.yml"
    gains = save_reviewed(
        path, {"ask_visiting/bring_money": ["can I take money in"], "out_of_scope": ["pizza?"]}
    )
    assert gains == {"ask_visiting/bring_money": 1, "out_of_scope": 1}
    gains = save_reviewed(path, {"out_of_scope": ["Pizza?", "weather today"]})
    assert gains == {"out_of_scope": 1}
    data = load_data(str(path))
    assert sorted((m.get("text"), m.get_full_intent()) for m in data.training_examples) == [
        ("can I take money in", "ask_visiting/bring_money"),
        ("pizza?", "out_of_scope"),
        ("weather today", "out_of_scope"),
    ]
    assert set(yaml.safe_load(path.read_text(encoding="utf-8"))) == {"version", "nlu"}
    assert save_reviewed(path, {"greet": ["hello there"]}, write=False) == {"greet": 1}
    assert "hello there" not in path.read_text(encoding="utf-8")


def test_needs_answer_list_appends_and_is_read_back(tmp_path: Path) -> None:
    path = tmp_path / "review" / "needs_answer.yml"
    save_needs_answer(path, [NeedsAnswer(["can I bring my dog"], 3, ["ask_visiting"])])
    save_needs_answer(path, [NeedsAnswer(["is there a cafe"], 1)])
    questions = yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]
    assert questions[0] == {
        "asked": 3,
        "closest_intents": ["ask_visiting"],
        "texts": ["can I bring my dog"],
    }
    assert needs_answer_texts(path) == {"can i bring my dog", "is there a cafe"}


def test_labels_come_from_the_domain_without_crisis_or_fallback() -> None:
    labels = assignable_labels()
    assert "ask_visiting" in labels and "out_of_scope" in labels
    assert "express_crisis" not in labels and "nlu_fallback" not in labels
    assert resolve("ask_visiting", labels) == ("ask_visiting", [])
    label, suggestions = resolve("visting", labels)
    assert label is None and "ask_visiting" in suggestions


def _review(groups: list[Group], answers: list[str], index: TrainingIndex | None = None):
    replies = iter(answers)
    out: list[str] = []

    def read_line(prompt: str) -> str:
        out.append(prompt)
        try:
            return next(replies)
        except StopIteration:
            raise EOFError from None

    reviewer = Reviewer(
        groups,
        ["ask_visiting", "out_of_scope", "ask_rights"],
        index or TrainingIndex(),
        read_line,
        out.append,
    )
    return reviewer.run(), out


def _group(*texts: str) -> Group:
    items = [QueueItem(text, {DID_YOU_MEAN}, (("ask_rights", 0.4),)) for text in texts]
    return Group(items=items, guesses=best_guesses(items))


def test_a_session_assigns_edits_skips_and_notes() -> None:
    groups = [
        _group("can I take money in", "my son Jamie needs cash"),
        _group("weather?"),
        _group("dog on visits?"),
        _group("parking at [date]"),
    ]
    answers = [
        "ask_visitng",  # a typo: suggestions, asked again
        "ask_visiting",
        "",  # keep text 1
        "e",
        "can my son have some cash",
        "",  # keep the edit
        "o",
        "x",  # leave the only text out
        "s",
        "n",
        "",  # a masked detail cannot be kept as it is: asked again
        "e",
        "is there parking",
        "",
    ]
    decisions, out = _review(groups, answers)
    assert decisions.examples == {
        "ask_visiting": ["can I take money in", "can my son have some cash"],
    }
    assert decisions.out_of_scope == 1 and decisions.skipped == 1
    assert [entry.texts for entry in decisions.needs_answer] == [["is there parking"]]
    text = "\n".join(out)
    assert "Did you mean: ask_visiting" in text
    assert "looks like a name: Jamie" in text
    assert "A masked detail cannot be saved" in text


def test_quitting_keeps_what_was_decided_and_counts_the_rest() -> None:
    index = TrainingIndex(examples={"what are my rights": "ask_rights"})
    groups = [_group("what are my rights", "can I complain"), _group("b"), _group("c")]
    decisions, out = _review(groups, ["out_of_scope", "", "q"], index)
    # The text already labelled ask_rights is not given a second intent.
    assert decisions.examples == {"out_of_scope": ["can I complain"]}
    assert decisions.not_reached == 2
    assert any("already an example of ask_rights" in line for line in out)


def test_summary_shows_gains_and_what_to_run_next() -> None:
    decisions, _ = _review([_group("a")], ["s"])
    lines = summary(
        decisions,
        {"ask_visiting": 2},
        1,
        Counter({"ask_visiting": 40}),
        "data/nlu/reviewed.yml",
        "data/review/needs_answer.yml",
        dry_run=False,
    )
    text = "\n".join(lines)
    assert "ask_visiting  +2  (42 examples in all)" in text
    assert "Noted 1 question for the content owner in data/review/needs_answer.yml" in text
    assert "make test" in text
    dry = "\n".join(summary(decisions, {"ask_visiting": 2}, 0, Counter(), "r", "n", True))
    assert "Dry run: nothing was saved." in dry and "Would add 2 examples" in dry


def test_specific_answers_in_the_domain_can_be_assigned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    domain = tmp_path / "domain.yml"
    domain.write_text(
        yaml.safe_dump(
            {
                "intents": ["ask_visiting", "express_crisis", "greet"],
                "responses": {
                    "utter_greet": [{"text": "Hello"}],
                    "utter_ask_visiting/bring_money": [{"text": "Ask the ward."}],
                    "utter_unknown/thing": [{"text": "Not an intent of this domain."}],
                },
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("CARERS_DOMAIN_FILE", str(domain))
    labels = assignable_labels()
    assert labels == ["ask_visiting", "ask_visiting/bring_money", "greet"]
    assert resolve("ask_visiting/bring_money", labels) == ("ask_visiting/bring_money", [])
