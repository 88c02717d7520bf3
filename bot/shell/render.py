"""Terminal text for the staff shell: replies with numbered buttons, and the --explain lines.

Pure functions over the JSON the REST channel and Rasa's tracker API return, so the layout is
tested without servers. Text is cleaned of control characters before it reaches the terminal: a
reply is content, never terminal commands.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MISSING = "-"
RUNNERS_UP = 2
_URL_RE = re.compile(r"^https?://", re.IGNORECASE)


def terminal_safe(text: str) -> str:
    """``text`` without control or formatting characters (newlines and tabs kept)."""
    return "".join(
        char
        for char in text
        if char in "\n\t" or unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )


@dataclass(frozen=True)
class Button:
    """A button as shown: its number, title, and what choosing it sends (or opens)."""

    number: int
    title: str
    payload: str

    @property
    def is_link(self) -> bool:
        """Film buttons open a web page on carers' screens; the shell prints the address."""
        return bool(_URL_RE.match(self.payload))


@dataclass
class Rendered:
    """One turn's replies as terminal lines, and the buttons a number can choose."""

    lines: list[str] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)


def render_replies(replies: Sequence[Mapping[str, Any]]) -> Rendered:
    """Each bot message as text; buttons numbered across the turn (1, 2, 3 …)."""
    out = Rendered()
    for reply in replies:
        text = reply.get("text")
        if isinstance(text, str) and text.strip():
            out.lines += [
                f"Bot: {line}" if i == 0 else f"     {line}"
                for i, line in enumerate(terminal_safe(text.strip()).splitlines())
            ]
        for key in ("image", "attachment"):
            if isinstance(reply.get(key), str):
                out.lines.append(f"Bot: [{key}] {terminal_safe(reply[key])}")
        if reply.get("custom") is not None:
            custom = json.dumps(reply["custom"], ensure_ascii=False)
            out.lines.append(f"Bot: [custom] {terminal_safe(custom)}")
        for button in reply.get("buttons") or []:
            if not isinstance(button, Mapping):
                continue
            shown = Button(
                number=len(out.buttons) + 1,
                title=terminal_safe(str(button.get("title", ""))),
                payload=terminal_safe(str(button.get("payload", ""))),
            )
            out.buttons.append(shown)
            link = f" -> {shown.payload}" if shown.is_link else ""
            out.lines.append(f"  {shown.number}. {shown.title}{link}")
    if not out.lines:
        out.lines.append("Bot: (no reply)")
    return out


@dataclass(frozen=True)
class Explanation:
    """Why the assistant answered a turn as it did (for staff only)."""

    answered_by_channel: bool
    intent: str | None = None
    confidence: float | None = None
    runners_up: tuple[tuple[str, float], ...] = ()
    answer: str | None = None
    answer_confidence: float | None = None
    risk_level: str | None = None
    risk_reason: str | None = None
    actions: tuple[str, ...] = ()


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def chosen_answer(
    parse_data: Mapping[str, Any], intent: str | None
) -> tuple[str | None, float | None]:
    """The specific answer the response selector picked for ``intent`` (retrieval key)."""
    selectors = parse_data.get("response_selector")
    if not isinstance(selectors, Mapping) or not intent:
        return None, None
    for key in (intent, "default"):
        selector = selectors.get(key)
        response = selector.get("response") if isinstance(selector, Mapping) else None
        if not isinstance(response, Mapping):
            continue
        label = response.get("intent_response_key")
        if isinstance(label, str) and label.split("/", 1)[0] == intent:
            return label, _number(response.get("confidence"))
    return None, None


def _turn_actions(events: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """The actions Rasa ran after the latest user message (``action_listen`` left out)."""
    names: list[str] = []
    for event in events:
        if event.get("event") == "user":
            names = []
        elif event.get("event") == "action":
            name = event.get("name")
            if isinstance(name, str) and name != "action_listen":
                names.append(name)
    return tuple(names)


def explain(tracker: Mapping[str, Any], previous_event_time: float | None) -> Explanation:
    """Read the turn's explanation from Rasa's tracker (``GET /conversations/<id>/tracker``).

    When nothing new is in the tracker since the previous turn, the channel guard answered on
    its own (empty, non-text or foreign input) and Rasa was never asked.
    """
    latest_time = _number(tracker.get("latest_event_time"))
    if latest_time is None or latest_time == previous_event_time:
        return Explanation(answered_by_channel=True)
    parse = tracker.get("latest_message")
    parse = parse if isinstance(parse, Mapping) else {}
    intent_data = parse.get("intent") if isinstance(parse.get("intent"), Mapping) else {}
    intent = intent_data.get("name") if isinstance(intent_data.get("name"), str) else None
    ranking = [
        (str(entry.get("name")), _number(entry.get("confidence")) or 0.0)
        for entry in parse.get("intent_ranking") or []
        if isinstance(entry, Mapping) and entry.get("name") != intent
    ]
    answer, answer_confidence = chosen_answer(parse, intent)
    risk = parse.get("risk") if isinstance(parse.get("risk"), Mapping) else {}
    events = tracker.get("events")
    return Explanation(
        answered_by_channel=False,
        intent=intent,
        confidence=_number(intent_data.get("confidence")),
        runners_up=tuple(ranking[:RUNNERS_UP]),
        answer=answer,
        answer_confidence=answer_confidence,
        risk_level=risk.get("level") if isinstance(risk.get("level"), str) else None,
        risk_reason=risk.get("reason") if isinstance(risk.get("reason"), str) else None,
        actions=_turn_actions(events if isinstance(events, list) else []),
    )


def _score(name: str | None, confidence: float | None) -> str:
    if not name:
        return MISSING
    return f"{name} {confidence:.2f}" if confidence is not None else name


def render_explanation(explanation: Explanation) -> list[str]:
    """The lines shown under a reply with ``--explain``."""
    if explanation.answered_by_channel:
        return ["   why: answered by the channel guard; Rasa was not asked"]
    runners = ", ".join(_score(name, conf) for name, conf in explanation.runners_up)
    intent = _score(explanation.intent, explanation.confidence)
    risk = explanation.risk_level or MISSING
    if explanation.risk_reason:
        risk = f"{risk} (reason: {explanation.risk_reason})"
    return [
        f"   why: intent {intent}" + (f"  (then {runners})" if runners else ""),
        f"        answer {_score(explanation.answer, explanation.answer_confidence)}",
        f"        risk   {risk}",
        f"        ran    {', '.join(explanation.actions) or MISSING}",
    ]
