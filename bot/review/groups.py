"""Grouping similar queued messages, and the assistant's three best guesses for each group.

Texts are embedded with the same sentence encoder the NLU pipeline uses
(``bot.nlu.encoder``: all-MiniLM-L6-v2, unit vectors) and grouped by average-linkage
hierarchical clustering (SciPy) on cosine distance: a group's members are, on average, at least
:data:`GROUP_SIMILARITY` alike. Identical texts are embedded once.

The guesses are the labels with the highest mean confidence over the group's stored
``intent_ranking`` (``nlu_fallback`` and ``express_crisis`` left out); when the response
selector chose a specific answer for a guessed intent, the guess is that answer
(``ask_visiting/bring_money``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from bot.review.labels import NOT_ASSIGNABLE
from bot.review.queue import QueueItem, normalise

GROUP_SIMILARITY = 0.5
GUESSES = 3

Encode = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class Guess:
    label: str
    confidence: float


@dataclass
class Group:
    """Similar messages, most frequent text first."""

    items: list[QueueItem]
    guesses: list[Guess] = field(default_factory=list)

    @property
    def texts(self) -> list[tuple[str, int]]:
        """Each distinct text (first spelling seen) with how many messages used it."""
        counts: Counter[str] = Counter(normalise(item.text) for item in self.items)
        first: dict[str, str] = {}
        for item in self.items:
            first.setdefault(normalise(item.text), item.text)
        return [(first[key], count) for key, count in counts.most_common()]

    @property
    def reasons(self) -> Counter[str]:
        return Counter(reason for item in self.items for reason in item.reasons)

    @property
    def chosen(self) -> Counter[str]:
        """What carers tapped when asked "Did you mean…?"."""
        return Counter(item.chosen for item in self.items if item.chosen)


def best_guesses(items: Sequence[QueueItem], count: int = GUESSES) -> list[Guess]:
    """The labels with the highest mean confidence across ``items``."""
    totals: Counter[str] = Counter()
    for item in items:
        for name, confidence in item.ranking:
            if name not in NOT_ASSIGNABLE:
                totals[name] += confidence
    guesses = []
    for name, total in totals.most_common(count):
        answers = Counter(item.answers[name] for item in items if name in item.answers)
        label = answers.most_common(1)[0][0] if answers else name
        guesses.append(Guess(label=label, confidence=total / len(items)))
    return guesses


def cluster_labels(vectors: np.ndarray, similarity: float = GROUP_SIMILARITY) -> list[int]:
    """A cluster number per row of unit vectors (average linkage, cosine distance)."""
    if len(vectors) == 0:
        return []
    if len(vectors) == 1:
        return [1]
    tree = linkage(vectors.astype(np.float64), method="average", metric="cosine")
    return [int(label) for label in fcluster(tree, t=1.0 - similarity, criterion="distance")]


def group_items(
    items: Sequence[QueueItem], encode: Encode, similarity: float = GROUP_SIMILARITY
) -> list[Group]:
    """Groups of similar items, largest first (ties: the order they were asked in)."""
    distinct: dict[str, int] = {}
    for item in items:
        distinct.setdefault(normalise(item.text), len(distinct))
    texts = list(distinct)
    labels = cluster_labels(encode(texts), similarity) if texts else []
    members: dict[int, list[QueueItem]] = {}
    for item in items:
        members.setdefault(labels[distinct[normalise(item.text)]], []).append(item)
    groups = [Group(items=found, guesses=best_guesses(found)) for found in members.values()]
    return sorted(groups, key=lambda group: -len(group.items))
