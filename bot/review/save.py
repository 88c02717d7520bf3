"""Saving a review: examples to ``data/nlu/reviewed.yml``, questions to the content owner's list.

``reviewed.yml`` is written by Rasa's own YAML writer (merged with what it already holds), so it
is valid NLU data by construction; it holds texts and labels only. The content owner's list
(``data/review/needs_answer.yml``, which Rasa does not read as training data) holds each
question's confirmed texts, how many messages asked it, and the assistant's guesses. Neither
file ever holds a sender id, a timestamp or a conversation reference.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.review.labels import load_training_data
from bot.review.queue import normalise

REVIEWED_HEADER = """\
# Examples confirmed by staff in `make review` (bot/review): carers' questions the assistant
# could not answer, masked, checked and edited by a person before saving. Texts and labels only:
# no sender ids, no dates. `make test` retrains with them. Edit texts freely (the tool
# rewrites this file when it adds examples: comments other than this header are not kept).
"""
NEEDS_ANSWER_HEADER = """\
# Questions carers asked that no answer covers yet, noted in `make review` (bot/review).
# For the content owner: write an answer (domain.yml response + content/sources.yml), add the
# intent, then move these texts into data/nlu/ as examples and delete the entry. Texts were
# confirmed or edited by staff; no sender ids, no dates. Not read by Rasa.
"""


@dataclass
class NeedsAnswer:
    """One question for the content owner."""

    texts: list[str]
    asked: int
    guesses: list[str] = field(default_factory=list)

    def as_yaml(self) -> dict[str, Any]:
        return {"asked": self.asked, "closest_intents": self.guesses, "texts": self.texts}


def _atomic_write(path: Path, text: str) -> None:
    """Write via a temporary file, so a crash never leaves half a training file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_reviewed(
    path: Path, additions: Mapping[str, Sequence[str]], write: bool = True
) -> dict[str, int]:
    """Add ``{label: texts}`` to the NLU file at ``path``; return the examples each label
    gained (texts it already had are not added twice). ``write=False`` only counts."""
    existing = load_training_data([path]).training_examples
    seen = {normalise(str(m.get("text"))) for m in existing}
    added: list[Message] = []
    gains: dict[str, int] = {}
    for label, texts in additions.items():
        for text in texts:
            if normalise(text) in seen:
                continue
            seen.add(normalise(text))
            added.append(Message.build(text=text, intent=label))
            gains[label] = gains.get(label, 0) + 1
    if added and write:
        data = TrainingData([*existing, *added])
        _atomic_write(path, REVIEWED_HEADER + RasaYAMLWriter().dumps(data))
    return gains


def save_needs_answer(path: Path, entries: Sequence[NeedsAnswer]) -> int:
    """Append questions to the content owner's list; return how many were added."""
    if not entries:
        return 0
    current: list[Any] = []
    if path.exists():
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        current = list(loaded.get("questions") or []) if isinstance(loaded, dict) else []
    current += [entry.as_yaml() for entry in entries]
    body = yaml.safe_dump(
        {"questions": current}, allow_unicode=True, sort_keys=False, default_flow_style=False
    )
    _atomic_write(path, NEEDS_ANSWER_HEADER + body)
    return len(entries)


def needs_answer_texts(path: Path) -> set[str]:
    """Texts already on the content owner's list (normalised), so they are not offered again."""
    if not path.exists():
        return set()
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    questions = loaded.get("questions") if isinstance(loaded, dict) else None
    return {
        normalise(text)
        for entry in questions or []
        if isinstance(entry, dict)
        for text in entry.get("texts") or []
        if isinstance(text, str)
    }
