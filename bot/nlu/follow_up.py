"""Decides once, from the message alone, whether an answer needs anything after it.

Most answers need nothing more, and then the dialogue sends the answer and stops: no action
server call (data/rules/topics.yml). Three things about the *message* call for a follow-up after
the answer, and they are decided here, in the NLU pipeline, where the facts are:

* **concern** — the risk decision (``bot.nlu.risk``) read the message as naming a hard subject
  without danger now: one calm line with the carer's nation's urgent route follows;
* **also** — the message seems to ask about a second topic as well (:func:`second_topic`): that
  topic is offered as one button;
* **hospital** — the specific answer depends on the hospital (``FIELDS_FOR_ANSWER``): the named
  hospital's facts follow, or an offer to tailor the answer.

``FollowUpMarker`` (bot/nlu/follow_up_marker.py) records ``follow_up: {"kinds", "also"}`` in the
parse data and, when any kind applies, the entity ``follow_up``, which the rules use to call
``action_follow_up``. It must come after the RiskAssessor, the last word on the intent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.content.hospital_facts import FIELDS_FOR_ANSWER
from bot.content.topics import topics

# Keys of Rasa's parse data (plain strings: this module must not import Rasa, so the fast tests
# and the bench can use it).
INTENT = "intent"
INTENT_RANKING = "intent_ranking"
ENTITIES = "entities"
RESPONSE_SELECTOR = "response_selector"
RISK_KEY = "risk"  # set by bot/nlu/risk_assessor.py
ANSWER_ENTITY = "answer"  # set by bot/nlu/answer_selector.py
FOLLOW_UP_KEY = "follow_up"  # in the parse data
FOLLOW_UP_ENTITY = "follow_up"  # the rules' signal (domain.yml)

CONCERN = "concern"
ALSO = "also"
HOSPITAL = "hospital"

# A runner-up topic is offered when it has at least this confidence and at least this share of
# the answered intent's. Chosen from the cross-validation records (bench/results/cv_records.json,
# ``bench.nlu.second_topic_scores``): rarely shown after a right answer, and after a wrong one
# it often holds the topic the carer meant.
SECOND_MIN_CONFIDENCE = 0.15
SECOND_MIN_RATIO = 0.3
# Never offered as "also": the crisis intent, the fallback (small talk is not in topics.yml).
NOT_OFFERED = frozenset({"express_crisis", "nlu_fallback"})
# Only topic answers are followed up.
TOPIC_PREFIX = "ask_"


def second_topic(parse: Mapping[str, Any], answered: str) -> str | None:
    """The topic a message seems to ask about as well as ``answered``, or None.

    Two questions in one message ("can the kids come, and can I get help with the train fare?")
    are answered by the likelier one; the other stays one tap away.
    """
    ranking = parse.get(INTENT_RANKING) or []
    if len(ranking) < 2 or not isinstance(ranking[0], dict) or not isinstance(ranking[1], dict):
        return None
    top, runner_up = ranking[0], ranking[1]
    name = runner_up.get("name")
    if top.get("name") != answered or name == answered or name in NOT_OFFERED:
        return None
    if name not in topics():
        return None
    try:
        top_conf, second_conf = float(top.get("confidence")), float(runner_up.get("confidence"))
    except (TypeError, ValueError):
        return None
    if second_conf >= SECOND_MIN_CONFIDENCE and second_conf >= SECOND_MIN_RATIO * top_conf:
        return name
    return None


def chosen_answer(parse: Mapping[str, Any], intent: str) -> str | None:
    """The specific answer chosen for ``intent`` (``ask_visiting/book_visit``), or None."""
    entities = parse.get(ENTITIES) or []
    if not any(isinstance(e, dict) and e.get("entity") == ANSWER_ENTITY for e in entities):
        return None
    selected = ((parse.get(RESPONSE_SELECTOR) or {}).get(intent) or {}).get("response") or {}
    key = selected.get("intent_response_key")
    return key if isinstance(key, str) else None


def follow_ups(parse: Mapping[str, Any]) -> dict[str, Any]:
    """What should follow the answer to this message: ``{"kinds": [...], "also": ...}``."""
    intent = (parse.get(INTENT) or {}).get("name")
    if not isinstance(intent, str) or not intent.startswith(TOPIC_PREFIX):
        return {"kinds": [], "also": None}
    kinds: list[str] = []
    risk = parse.get(RISK_KEY)
    if isinstance(risk, dict) and risk.get("level") == CONCERN:
        kinds.append(CONCERN)
    if chosen_answer(parse, intent) in FIELDS_FOR_ANSWER:
        kinds.append(HOSPITAL)
    also = second_topic(parse, intent)
    if also is not None:
        kinds.append(ALSO)
    return {"kinds": kinds, "also": also}
