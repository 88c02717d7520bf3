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
2. a three-way risk model (logistic regression on the same scaled sparse + sentence-embedding
   features as the intent classifier) trained on the NLU data: ``express_crisis`` examples are
   acute, examples marked ``metadata: {risk: concern}`` concern, the rest none;
3. the intent classifier's confidence in ``express_crisis``.

The risk model alone can call a message acute (indirect wording: "I've left the door unlocked
for whoever finds me"). A pattern match is acute unless the risk model is confident it is not
(more readily when a concern frame explains the words). The intent classifier's crisis vote
counts when the risk model gives it some support and no frame or idiom explains it.
Thresholds live in
``content/safety.yml`` (``risk_thresholds``), set on the development part of the evaluation set.

Pure Python over numpy: table-tested without Rasa; ``bot.nlu.risk_assessor`` delivers the
decision into Rasa's parse data (level and reason id, never the text).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
    """Cut-offs for the risk model's and the classifier's votes (content/safety.yml)."""

    model_acute: float = 0.5  # P(acute) alone makes a message acute
    keep_acute: float = 0.15  # a pattern match stays acute unless P(acute) is below this…
    keep_acute_with_frame: float = 0.3  # …or below this when a concern frame explains it
    classifier_acute: float = 0.6  # express_crisis confidence that makes it acute…
    classifier_support: float = 0.2  # …when the risk model gives at least this P(acute)
    model_concern: float = 0.5  # P(concern) alone makes it a concern

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

        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 3)

        return {
            "level": self.level,
            "reason": self.reason,
            "p_acute": rounded(self.p_acute),
            "p_concern": rounded(self.p_concern),
            "crisis_confidence": rounded(self.crisis_confidence),
        }


def decide(
    text: Any,
    rules: SafetyRules,
    ranking: Sequence[Any] | None = None,
    probabilities: Mapping[str, float] | None = None,
    thresholds: RiskThresholds | None = None,
) -> RiskDecision:
    """Acute, concern or none for one message (see the module docstring).

    ``probabilities`` is the risk model's P(acute/concern/none) for this message (None when the
    model is missing: then the patterns and the classifier decide alone, erring towards acute).
    """
    limits = thresholds or RiskThresholds()
    confidence = crisis_confidence(ranking)
    p_acute = probabilities.get(ACUTE) if probabilities else None
    p_concern = probabilities.get(CONCERN) if probabilities else None

    def result(level: str, reason: str) -> RiskDecision:
        return RiskDecision(level, reason, p_acute, p_concern, confidence)

    pattern, idiom = scan(text, rules)
    frame = find_frame(text, rules)
    # The model alone is not trusted where an idiom explains the only alarming words.
    model_says_acute = p_acute is not None and p_acute >= limits.model_acute
    if model_says_acute and (pattern is not None or idiom is None):
        return result(ACUTE, f"pattern:{pattern.id}" if pattern else "model:risk")
    if pattern is not None:
        floor = limits.keep_acute_with_frame if frame is not None else limits.keep_acute
        if p_acute is not None and p_acute < floor:
            return result(CONCERN, f"frame:{frame.id}" if frame else f"model:{pattern.id}")
        return result(ACUTE, f"pattern:{pattern.id}")
    if (
        confidence is not None
        and confidence >= limits.classifier_acute
        and (p_acute is None or p_acute >= limits.classifier_support)
        and frame is None
        and idiom is None
    ):
        return result(ACUTE, "model:classifier")
    term = find_risk_term(text, rules)
    if frame is not None and term is not None:
        return result(CONCERN, f"frame:{frame.id}")
    if term is not None:
        return result(CONCERN, f"term:{term.id}")
    if p_concern is not None and p_concern >= limits.model_concern:
        return result(CONCERN, "model:risk")
    return result(NONE, f"idiom:{idiom.id}" if idiom is not None else "none")
