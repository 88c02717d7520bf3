"""What a group can be assigned to, and what the training data already holds.

Labels are the domain's intents and its specific answers: a response named
``utter_ask_visiting/bring_money`` makes ``ask_visiting/bring_money`` (a retrieval intent) a
label too. ``nlu_fallback`` is Rasa's, and ``express_crisis`` is never assigned here: crisis
examples change who gets the crisis routes, which needs clinical sign-off (README).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.content.domain import domain_intents, load_domain
from bot.review.queue import CRISIS_INTENT, normalise

NOT_ASSIGNABLE = frozenset({"nlu_fallback", CRISIS_INTENT})
OUT_OF_SCOPE = "out_of_scope"


def assignable_labels() -> list[str]:
    """Intents and ``intent/key`` specific answers from ``domain.yml``, sorted."""
    intents = domain_intents() - NOT_ASSIGNABLE
    responses = load_domain().get("responses") or {}
    answers = {
        name.removeprefix("utter_")
        for name in responses
        if isinstance(name, str)
        and "/" in name
        and name.removeprefix("utter_").split("/", 1)[0] in intents
    }
    return sorted(intents | answers)


def resolve(typed: str, labels: Sequence[str]) -> tuple[str | None, list[str]]:
    """The label ``typed`` names exactly, or None and the closest few to suggest."""
    typed = typed.strip()
    if typed in labels:
        return typed, []
    containing = [label for label in labels if typed and typed.casefold() in label.casefold()]
    close = difflib.get_close_matches(typed, labels, n=3, cutoff=0.5)
    return None, list(dict.fromkeys(containing + close))[:5]


@dataclass
class TrainingIndex:
    """The examples the NLU data already has (normalised text -> label), its lookup tables'
    entries (places, hospitals) and the words its examples use."""

    examples: dict[str, str] = field(default_factory=dict)
    places: list[str] = field(default_factory=list)
    words: frozenset[str] = frozenset()

    def label_of(self, text: str) -> str | None:
        return self.examples.get(normalise(text))


def load_training_data(paths: Iterable[Path]) -> TrainingData:
    """Rasa's own reader over every NLU file or folder given that exists."""
    data = TrainingData()
    for path in paths:
        if path.exists():
            data = data.merge(load_data(str(path)))
    return data


def load_index(paths: Iterable[Path]) -> TrainingIndex:
    """The :class:`TrainingIndex` of the NLU data at ``paths``."""
    data = load_training_data(paths)
    examples: dict[str, str] = {}
    words: set[str] = set()
    for message in data.training_examples:
        text, label = message.get("text"), message.get_full_intent()
        if isinstance(text, str) and isinstance(label, str):
            examples.setdefault(normalise(text), label)
            words.update(normalise(text).replace("?", " ").replace(",", " ").split())
    places = [
        str(element)
        for table in data.lookup_tables
        for element in (table.get("elements") or [])
        if isinstance(element, str)
    ]
    return TrainingIndex(examples=examples, places=places, words=frozenset(words))
