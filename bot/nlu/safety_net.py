"""SafetyNet: the last intent classifier in the pipeline, so a crisis is never missed.

DIET can score a vaguely worded crisis message low, and the FallbackClassifier then turns it
into ``nlu_fallback``: the crisis rule never fires and the carer gets "did you mean…?". This
component runs after both and applies ``bot.content.safety.assess`` (curated patterns from
content/safety.yml, OR-ed with express_crisis's rank in the classifier's ranking). On a crisis
it sets ``express_crisis`` with confidence 1.0 and records why under ``safety_net`` (pattern id
and category, never the text) so reports can count how often it stepped in.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.content.safety import CRISIS_INTENT, SafetyRules, SafetyVerdict, assess, load_rules

logger = logging.getLogger(__name__)

SAFETY_NET_KEY = "safety_net"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyNet(GraphComponent, IntentClassifier):
    """Overrides the predicted intent with express_crisis when a crisis signal is present."""

    @classmethod
    def required_components(cls) -> list[type]:
        """An intent classifier must run first: we read (and may override) its ranking."""
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """No options: the patterns and threshold live in content/safety.yml."""
        return {}

    def __init__(self, config: dict[str, Any], rules: SafetyRules | None = None) -> None:
        """Compile the rules now, so a broken content/safety.yml stops the model loading."""
        self.component_config = config
        self._rules = rules or load_rules()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyNet:
        """Create the component (it has nothing to train or persist)."""
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        """Check every message; never raise, whatever the text."""
        for message in messages:
            try:
                self._process_one(message)
            except Exception:  # pragma: no cover - defensive: never break the parse
                logger.exception("safety net failed on a message; leaving its intent unchanged")
        return messages

    def _process_one(self, message: Message) -> None:
        ranking = message.get(INTENT_RANKING_KEY)
        verdict = assess(message.get(TEXT), ranking, self._rules)
        if verdict.is_crisis:
            apply_crisis(message, verdict)


def apply_crisis(message: Message, verdict: SafetyVerdict) -> None:
    """Set express_crisis (1.0) on top, keep the rest of the ranking, record why."""
    previous = message.get(INTENT) or {}
    previous_name = previous.get(INTENT_NAME_KEY) if isinstance(previous, dict) else None
    previous_confidence = (
        previous.get(PREDICTED_CONFIDENCE_KEY) if isinstance(previous, dict) else None
    )
    crisis = {INTENT_NAME_KEY: CRISIS_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
    ranking = [
        dict(item)
        for item in (message.get(INTENT_RANKING_KEY) or [])
        if isinstance(item, dict) and item.get(INTENT_NAME_KEY) != CRISIS_INTENT
    ]
    message.set(INTENT, crisis, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [dict(crisis), *ranking], add_to_output=True)
    message.set(
        SAFETY_NET_KEY,
        {
            "triggered": True,
            "overridden": previous_name != CRISIS_INTENT,
            "source": verdict.source,
            "pattern_id": verdict.pattern_id,
            "category": verdict.category,
            "idiom_id": verdict.idiom_id,
            "previous_intent": previous_name,
            "previous_confidence": previous_confidence,
            "crisis_confidence": verdict.crisis_confidence,
        },
        add_to_output=True,
    )
    logger.debug("safety net: %s", verdict.reason)
