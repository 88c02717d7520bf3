"""Specific answers and graded risk through the real REST channel and trained model (issues 12, 13).

Every specific answer must be reachable: one of its own example questions, sent as a carer would
send it in a fresh conversation, gets that answer's text first. The issue's four examples get
their specific fact; a question that only mentions a hard subject gets its answer plus one calm
line, never the crisis routes; someone in danger gets the crisis routes first.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.stack

REPO_ROOT = Path(__file__).resolve().parents[1]


def answers() -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((REPO_ROOT / "data" / "answers").glob("*.yml")):
        found.update(yaml.safe_load(path.read_text(encoding="utf-8"))["responses"])
    return found


ANSWERS = answers()
DOMAIN = yaml.safe_load((REPO_ROOT / "domain.yml").read_text(encoding="utf-8"))


def default_first_paragraph(name: str, responses: dict[str, Any] = ANSWERS) -> str:
    variant = next(v for v in responses[name] if not v.get("condition"))
    return variant["text"].split("\n\n")[0].strip()


def examples_by_answer() -> dict[str, list[str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    found: dict[str, list[str]] = {}
    for message in load_data(str(REPO_ROOT / "data" / "nlu")).intent_examples:
        key = message.get("intent_response_key")
        if key and not key.endswith("/general"):
            found.setdefault(f"utter_{key}", []).append(message.get("text"))
    return found


def fresh() -> str:
    return f"answers-{uuid.uuid4().hex[:12]}"


def test_every_specific_answer_is_reachable(say: Any) -> None:
    unreachable = []
    for name, examples in sorted(examples_by_answer().items()):
        expected = default_first_paragraph(name)
        # Any of its own examples reaching it will do: the model is trained on them.
        if not any(
            expected in [m.get("text", "").strip() for m in say(text, fresh())] for text in examples
        ):
            unreachable.append(name)
    assert not unreachable, f"answers no example reaches: {unreachable}"


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("can I give him money?", "utter_ask_visiting/bring_money"),
        ("what is a section 37/41", "utter_ask_secure_services/restriction_order_37_41"),
        ("how do I get section 17 leave for him", "utter_ask_transitions/section_17_leave"),
        ("who is his RC", "utter_ask_designated_worker/responsible_clinician"),
    ],
)
def test_the_issue_examples_get_the_specific_fact(say: Any, question: str, answer: str) -> None:
    replies = [m.get("text", "").strip() for m in say(question, fresh())]
    assert replies and replies[0] == default_first_paragraph(answer), replies


def test_a_topic_button_gets_the_overview(say: Any) -> None:
    replies = say("/ask_visiting", fresh())
    assert replies[0]["text"].strip() == default_first_paragraph("utter_visiting")
    assert [b["title"] for b in replies[0].get("buttons", [])] or any(
        m.get("buttons") for m in replies
    )


def test_a_concern_gets_its_answer_and_one_calm_line_not_the_alarm(say: Any) -> None:
    crisis = {v["text"].split("\n")[0] for v in DOMAIN["responses"]["utter_crisis"]}
    line = default_first_paragraph("utter_concern_line", DOMAIN["responses"])
    replies = [
        m.get("text", "")
        for m in say(
            "my dad died of cancer years ago, is there bereavement support for carers", fresh()
        )
    ]
    assert not any(r.split("\n")[0] in crisis for r in replies), replies
    assert line in replies, replies
    assert replies[0] != line  # the answer comes first


def test_someone_in_danger_gets_the_crisis_routes_first(say: Any) -> None:
    replies = say("im on the bridge and i dont trust myself", fresh())
    assert "999" in replies[0]["text"]


def test_two_questions_get_the_likelier_answer_and_the_other_as_a_button(say: Any) -> None:
    """Issue 11, point 5: the second topic stays one tap away (actions/follow_up.py)."""
    from bot.content.messages import message
    from bot.content.topics import topic_title

    replies = say("can I go to the ward round? also who is the carers lead", fresh())
    texts = [m.get("text", "") for m in replies]
    assert default_first_paragraph("utter_ask_designated_worker/carers_lead") in texts, texts
    offer = next(m for m in replies if m.get("text") == message("also_asked").text)
    assert offer["buttons"] == [
        {"title": topic_title("ask_involvement"), "payload": "/ask_involvement"}
    ]


def tracker_events(rasa_stack: Any, sender: str) -> list[dict[str, Any]]:
    import json
    import urllib.request

    url = (
        f"{rasa_stack.rasa_url}/conversations/{sender}/tracker"
        f"?token={rasa_stack.auth_token}&include_events=ALL"
    )
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())["events"]


def actions_run(events: list[dict[str, Any]]) -> list[str]:
    return [e["name"] for e in events if e.get("event") == "action"]


def test_a_plain_answer_is_one_response_with_no_action_server_call(
    say: Any, rasa_stack: Any
) -> None:
    """Issue 14, point 1: the common path is a rule and a response; nothing follows it."""
    sender = fresh()
    replies = say("can I take a parcel in for her when I visit", sender)
    assert replies and replies[0]["text"].strip()
    ran = actions_run(tracker_events(rasa_stack, sender))
    custom = set(DOMAIN["actions"])  # the action server's actions
    assert any(name.startswith("utter_") for name in ran), ran
    assert not custom & set(ran), ran


def test_a_marked_message_gets_its_follow_up_from_the_action(say: Any, rasa_stack: Any) -> None:
    """The hospital-dependent answer is marked in the parse data, so the rule calls the action."""
    sender = fresh()
    replies = [m.get("text", "") for m in say("how much notice do I need to book a visit", sender)]
    from bot.content.messages import message

    assert message("hospital_offer").text in replies, replies
    events = tracker_events(rasa_stack, sender)
    assert "action_follow_up" in actions_run(events)
    parsed = next(e for e in events if e.get("event") == "user")["parse_data"]
    assert "hospital" in parsed["follow_up"]["kinds"]


def test_thanks_after_an_answer_asks_if_it_helped_and_a_tap_is_a_vote(
    say: Any, rasa_stack: Any
) -> None:
    from bot.content.messages import message

    asking = next(v for v in DOMAIN["responses"]["utter_thank"] if v.get("buttons"))
    sender = fresh()
    say("/ask_rights", sender)
    thanks = say("thank you", sender)
    assert thanks == [
        {"recipient_id": sender, "text": asking["text"], "buttons": asking["buttons"]}
    ]
    vote = say("/deny", sender)
    assert [m["text"] for m in vote] == [message("feedback_thanks_down").text]
    votes = [
        e["value"]
        for e in tracker_events(rasa_stack, sender)
        if e.get("event") == "slot" and e.get("name") == "helpful_vote"
    ]
    assert votes == [{"topic": "ask_rights", "vote": "down"}]


def test_no_question_before_an_answer_or_after_a_crisis(say: Any) -> None:
    plain = next(v for v in DOMAIN["responses"]["utter_thank"] if not v.get("condition"))
    early = fresh()
    assert [m["text"] for m in say("thank you", early)] == [plain["text"]]
    after_crisis = fresh()
    say("I want to end my life", after_crisis)
    say("/ask_rights", after_crisis)
    assert [m["text"] for m in say("thank you", after_crisis)] == [plain["text"]]
