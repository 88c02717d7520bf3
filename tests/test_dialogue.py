"""Whole conversations through the real REST channel, trained model and action server.

These cover what `rasa test` cannot: the two-stage fallback rewrites the conversation at run
time (it reverts the unclear message once the carer picks a topic), and the crisis reply depends
on what the contacts action learnt about the carer's nation.
"""

from __future__ import annotations

import json
import re
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.content.crisis import crisis_text
from bot.content.messages import message
from bot.content.topics import topics

pytestmark = pytest.mark.stack

REPO_ROOT = Path(__file__).resolve().parents[1]
DOMAIN = yaml.safe_load((REPO_ROOT / "domain.yml").read_text(encoding="utf-8"))
# The topic overviews and specific answers live in data/answers/ (merged into the domain by Rasa).
for _path in sorted((REPO_ROOT / "data" / "answers").glob("*.yml")):
    DOMAIN["responses"].update(yaml.safe_load(_path.read_text(encoding="utf-8"))["responses"])
UNCLEAR_CANDIDATES = [
    "blorp zzzq wibble",
    "flibber jabber",
    "qwv plinth zonk",
    "mmmph arr",
    "xq zz yy",
    "the the the",
]


def first_paragraph(response: str) -> str:
    """The first message of a response (Rasa splits text on blank lines)."""
    text = DOMAIN["responses"][response][0]["text"]
    return text.split("\n\n")[0].strip()


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("text", "") for m in messages]


def new_sender() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def unclear_message(rasa_stack) -> str:
    """A message the trained pipeline sends to nlu_fallback (checked through /model/parse)."""
    for candidate in UNCLEAR_CANDIDATES:
        request = urllib.request.Request(
            f"{rasa_stack.rasa_url}/model/parse?token={rasa_stack.auth_token}",
            data=json.dumps({"text": candidate}).encode("utf-8"),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            parsed = json.loads(response.read())
        if parsed["intent"]["name"] == "nlu_fallback":
            return candidate
    pytest.fail(f"none of {UNCLEAR_CANDIDATES} fell back; the fallback threshold is too low")


def test_children_visiting_answer(say) -> None:
    replies = say("can I bring my kids to visit?", new_sender())
    assert texts(replies)[0] == first_paragraph("utter_visiting_children")
    assert any(m.get("buttons") for m in replies)


def test_did_you_mean_uses_topic_names_and_a_tap_answers(say, unclear_message: str) -> None:
    sender = new_sender()
    replies = say(unclear_message, sender)
    assert texts(replies) == [message("did_you_mean").text]
    buttons = replies[0]["buttons"]
    titles = {topic.title for topic in topics().values()}
    suggested = [b for b in buttons if b["payload"] != "/out_of_scope"]
    assert 1 <= len(suggested) <= 3
    for button in suggested:
        assert button["title"] in titles
        assert "_" not in button["title"]
    # Tapping a suggestion answers that topic as if the carer had asked it.
    chosen = suggested[0]["payload"].lstrip("/")
    answer = say(suggested[0]["payload"], sender)
    expected = topics()[chosen].response
    if expected.startswith("utter_"):
        assert texts(answer)[0] == first_paragraph(expected)
    else:
        assert answer, f"tapping {chosen} gave no reply"


def test_fallback_gives_up_with_menu_and_a_person(say, unclear_message: str) -> None:
    sender = new_sender()
    say(unclear_message, sender)
    assert texts(say("/out_of_scope", sender)) == [message("ask_rephrase").text]
    say(unclear_message, sender)
    final = say("/out_of_scope", sender)
    assert texts(final)[0] == message("final_fallback").text
    assert "contact the ward" in final[0]["text"]
    assert len(final[0]["buttons"]) >= 3


def test_crisis_after_a_fallback_comes_first(say, unclear_message: str) -> None:
    sender = new_sender()
    say(unclear_message, sender)
    replies = say("i want to die", sender)
    assert texts(replies)[0] == crisis_text()


def test_crisis_reply_knows_the_nation_once_contacts_found_it(say) -> None:
    sender = new_sender()
    say("contacts near Cardiff", sender)
    replies = say("I can't go on, I want to kill myself", sender)
    first = texts(replies)[0]
    assert first.startswith("If anyone is in danger right now, call 999.")
    assert "NHS 111 Wales and press 2" in first
    assert re.search(r"116 123", first) and "85258" in first


def test_the_films_are_a_button_on_the_answer_and_a_tap_lists_them(say) -> None:
    """The film offer is part of the topic's overview (a button), not a message after it."""
    sender = new_sender()
    answer = say("/ask_stigma", sender)
    buttons = [b for reply in answer for b in reply.get("buttons") or []]
    assert {"title": "Films", "payload": "/request_film"} in buttons
    assert answer[-1].get("buttons")  # the answer ends the turn: no offer after it
    films = texts(say("/request_film", sender))
    assert len(films) > 3 and any("Rampton" in t for t in films)


def test_bot_is_honest_about_being_automated(say) -> None:
    replies = say("am I talking to a real human?", new_sender())
    assert "automated" in texts(replies)[0].lower() or "not a person" in texts(replies)[0]
