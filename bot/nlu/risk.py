"""The one place that decides how much risk a message carries: acute, concern or none.

* **acute** — a risk to someone now or soon (intent, plan, means, goodbyes, an attempt in
  progress, threats, a carer who is not safe). The dialogue sends the nation's crisis routes first.
* **concern** — the message names self-harm, suicide, violence or death, but as the past, as
  hospital practice, as improvement, as a victim asking what to do, or as a worry that is not
  immediate. The carer's question is answered, with one calm line about urgent help.
* **none** — everything else, everyday hyperbole included.

Three kinds of evidence, combined here and nowhere else:

1. curated patterns (``content/safety.yml``): acute ``patterns``, ``exceptions`` (idioms such as
   "dying to see him"), ``concern_frames`` (practice, past, improvement, victim, worry) and
   ``risk_terms`` (the words that make a message a concern at least);
2. the sentence embedding, through a three-way logistic regression trained on the NLU data
   (``express_crisis`` examples are acute, examples marked ``metadata: {risk: concern}`` are
   concern, the rest none);
3. the intent classifier's confidence in ``express_crisis``.

A pattern match is acute unless a concern frame explains it AND the embedding does not read the
message as acute. Without a pattern, the classifier or the embedding can still call it acute
(indirect wording) unless a frame or an idiom explains the alarming words. Thresholds live in
``content/safety.yml`` (``risk_thresholds``), set on the development part of the evaluation set.

Pure Python over numpy: table-tested without Rasa; ``bot.nlu.risk_assessor`` delivers the
decision into Rasa's parse data (level and reason id, never the text).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bot.content.safety import (
    SafetyRules,
    crisis_confidence,
    find_frame,
    find_risk_term,
    scan,
)

ACUTE = "acute"
CONCERN = "concern"
NONE = "none"
LEVELS = (ACUTE, CONCERN, NONE)


@dataclass(frozen=True)
class RiskThresholds:
    """Cut-offs for the embedding's and the classifier's votes (content/safety.yml)."""

    embedding_acute: float = 0.6  # P(acute) from the embedding alone makes it acute
    classifier_acute: float = 0.5  # express_crisis confidence alone makes it acute
    keep_acute: float = 0.5  # a frame cannot downgrade a pattern match above this P(acute)
    embedding_concern: float = 0.5  # P(concern) alone makes it a concern

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> RiskThresholds:
        """Read ``risk_thresholds`` (missing keys keep their defaults)."""
        values = {k: float(v) for k, v in (data or {}).items() if k in cls.__annotations__}
        return cls(**values)


@dataclass(frozen=True)
class RiskDecision:
    """The level and why. ``reason`` is an id (pattern, frame, model), never the text."""

    level: str
    reason: str
    p_acute: float | None = None
    p_concern: float | None = None
    crisis_confidence: float | None = None

    def as_parse_data(self) -> dict[str, Any]:
        """What goes into Rasa's parse data under ``risk``."""
        return {
            "level": self.level,
            "reason": self.reason,
            "p_acute": None if self.p_acute is None else round(self.p_acute, 3),
            "p_concern": None if self.p_concern is None else round(self.p_concern, 3),
            "crisis_confidence": (
                None if self.crisis_confidence is None else round(self.crisis_confidence, 3)
            ),
        }


@dataclass(frozen=True)
class RiskModel:
    """Three-way logistic regression over the sentence embedding (classes in ``LEVELS`` order)."""

    coef: np.ndarray  # (3, dims)
    intercept: np.ndarray  # (3,)

    def probabilities(self, vector: np.ndarray | None) -> dict[str, float] | None:
        """P(level) for one embedding, or None without one."""
        if vector is None:
            return None
        logits = self.coef @ np.asarray(vector, dtype=np.float64).ravel() + self.intercept
        logits -= logits.max()
        exp = np.exp(logits)
        probs = exp / exp.sum()
        return {level: float(p) for level, p in zip(LEVELS, probs, strict=True)}

    @classmethod
    def fit(cls, vectors: np.ndarray, levels: Sequence[str], c: float = 4.0) -> RiskModel:
        """Train on labelled embeddings (every level must occur)."""
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=42)
        model.fit(vectors, list(levels))
        order = [list(model.classes_).index(level) for level in LEVELS]
        return cls(model.coef_[order], model.intercept_[order])


def decide(
    text: Any,
    rules: SafetyRules,
    ranking: Sequence[Any] | None = None,
    vector: np.ndarray | None = None,
    model: RiskModel | None = None,
    thresholds: RiskThresholds | None = None,
) -> RiskDecision:
    """Acute, concern or none for one message (see the module docstring)."""
    limits = thresholds or RiskThresholds()
    confidence = crisis_confidence(ranking)
    probs = model.probabilities(vector) if model is not None else None
    p_acute = probs[ACUTE] if probs else None
    p_concern = probs[CONCERN] if probs else None

    def result(level: str, reason: str) -> RiskDecision:
        return RiskDecision(level, reason, p_acute, p_concern, confidence)

    pattern, idiom = scan(text, rules)
    frame = find_frame(text, rules)
    if pattern is not None:
        if frame is not None and (p_acute is None or p_acute < limits.keep_acute):
            return result(CONCERN, f"frame:{frame.id}")
        return result(ACUTE, f"pattern:{pattern.id}")
    explained = frame is not None or idiom is not None
    model_acute = p_acute is not None and p_acute >= limits.embedding_acute
    classifier_acute = confidence is not None and confidence >= limits.classifier_acute
    if (model_acute or classifier_acute) and not (
        explained and (p_acute is None or p_acute < limits.keep_acute)
    ):
        return result(ACUTE, "model:embedding" if model_acute else "model:classifier")
    term = find_risk_term(text, rules)
    if term is not None:
        return result(CONCERN, f"term:{term.id}" if frame is None else f"frame:{frame.id}")
    if p_concern is not None and p_concern >= limits.embedding_concern:
        return result(CONCERN, "model:embedding")
    return result(NONE, f"idiom:{idiom.id}" if idiom is not None else "none")
