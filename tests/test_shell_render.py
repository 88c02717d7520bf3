"""The staff shell's layout and explanations, from JSON as Rasa and the REST channel send it."""

from __future__ import annotations

from typing import Any

from bot.shell.client import ShellClient
from bot.shell.render import explain, render_explanation, render_replies, terminal_safe
from bot.shell.session import run


def _tracker(parse: dict[str, Any], time: float = 2.0) -> dict[str, Any]:
    return {
        "latest_event_time": time,
        "latest_message": parse,
        "events": [
            {"event": "user", "text": "old"},
            {"event": "action", "name": "utter_greet"},
            {"event": "user", "text": "new"},
            {"event": "action", "name": "utter_visiting"},
            {"event": "action", "name": "action_follow_up"},
            {"event": "action", "name": "action_listen"},
        ],
    }


def test_buttons_are_numbered_across_the_turn_and_links_are_shown_not_sent() -> None:
    rendered = render_replies(
        [
            {
                "text": "First part\nsecond line",
                "buttons": [{"title": "Visiting", "payload": "/ask_visiting"}],
            },
            {"text": "A film", "buttons": [{"title": "Watch", "payload": "https://example.org/f"}]},
        ]
    )
    assert rendered.lines == [
        "Bot: First part",
        "     second line",
        "  1. Visiting",
        "Bot: A film",
        "  2. Watch -> https://example.org/f",
    ]
    assert [b.payload for b in rendered.buttons] == ["/ask_visiting", "https://example.org/f"]
    assert rendered.buttons[1].is_link and not rendered.buttons[0].is_link


def test_terminal_control_sequences_in_a_reply_are_removed() -> None:
    assert terminal_safe("hi\x1b[2J\x07 there\u202e\n") == "hi[2J there\n"
    assert render_replies([]).lines == ["Bot: (no reply)"]


def test_explanation_shows_intent_answer_and_risk() -> None:
    parse = {
        "intent": {"name": "ask_visiting", "confidence": 0.91},
        "intent_ranking": [
            {"name": "ask_visiting", "confidence": 0.91},
            {"name": "ask_rights", "confidence": 0.05},
            {"name": "out_of_scope", "confidence": 0.02},
            {"name": "greet", "confidence": 0.01},
        ],
        "response_selector": {
            "all_retrieval_intents": ["ask_visiting"],
            "ask_visiting": {
                "response": {"intent_response_key": "ask_visiting/bring_money", "confidence": 0.8},
                "ranking": [],
            },
        },
        "risk": {"level": "concern", "reason": "frame:practice"},
    }
    lines = render_explanation(explain(_tracker(parse), previous_event_time=1.0))
    assert lines == [
        "   why: intent ask_visiting 0.91  (then ask_rights 0.05, out_of_scope 0.02)",
        "        answer ask_visiting/bring_money 0.80",
        "        risk   concern (reason: frame:practice)",
        "        ran    utter_visiting, action_follow_up",
    ]


def test_missing_risk_and_answer_show_a_dash() -> None:
    parse = {"intent": {"name": "greet", "confidence": 1.0}, "intent_ranking": []}
    lines = render_explanation(explain(_tracker(parse), previous_event_time=None))
    assert lines[0] == "   why: intent greet 1.00"
    assert lines[1:3] == ["        answer -", "        risk   -"]


def test_a_selector_answer_for_another_intent_is_not_claimed() -> None:
    parse = {
        "intent": {"name": "greet", "confidence": 0.9},
        "response_selector": {
            "default": {"response": {"intent_response_key": "ask_visiting/x", "confidence": 0.4}}
        },
    }
    assert explain(_tracker(parse), None).answer is None


def test_nothing_new_in_the_tracker_means_the_channel_answered() -> None:
    tracker = _tracker({"intent": {"name": "greet", "confidence": 1.0}}, time=5.0)
    explanation = explain(tracker, previous_event_time=5.0)
    assert explanation.answered_by_channel
    assert "Rasa was not asked" in render_explanation(explanation)[0]


class _FakeClient(ShellClient):
    """Records what would be posted to the webhook; answers with one button."""

    def __init__(self) -> None:
        super().__init__("http://unused", token=None)
        self.posted: list[str] = []

    def send(self, text: str) -> list[dict[str, Any]]:
        self.posted.append(text)
        return [
            {"text": "Pick one", "buttons": [{"title": "Visiting", "payload": "/ask_visiting"}]}
        ]


def test_a_number_taps_the_button_and_anything_else_is_sent_as_typed() -> None:
    client = _FakeClient()
    lines = iter(["hello", "1", "7", "", "/restart", "/stop"])
    out: list[str] = []
    assert run(client, read_line=lambda _prompt: next(lines), write=out.append) == 0
    assert client.posted == ["hello", "/ask_visiting", "7", "", "/restart"]
    assert "(tapped 'Visiting': sends /ask_visiting)" in out
