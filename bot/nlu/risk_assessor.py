"""RiskAssessor: after the classifiers; delivers ``bot.nlu.risk.decide`` into the parse data.

It runs after the FallbackClassifier and owns ``express_crisis``: only an **acute** decision
puts it on top (confidence 1.0), and a message the classifier called a crisis that the decision
reads as concern or none goes to the carer's actual question instead. Every message gets
``risk: {level, reason, …}`` in the parse data (ids and numbers, never text), which the
dialogue, the staff tools and the insight report read.

The patterns are stored IN the model when it is trained (and ``fingerprint_addon`` makes an edit
of content/safety.yml retrain it), so every Rasa process serving a model — one in ``make run``,
two in the cluster — applies exactly the same patterns; the running servers never re-read the
file behind the model's back.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.content import content_dir
from bot.content.safety import CRISIS_INTENT, SafetyRules, parse_rules
from bot.nlu.answer_selector import ANSWER_ENTITY
from bot.nlu.features import FeatureScaler, LinearModel
from bot.nlu.risk import ACUTE, CONCERN, LEVELS, NONE, RiskThresholds, decide
from bot.nlu.storage import fit_scaler, load_arrays, scaled

logger = logging.getLogger(__name__)

RISK_KEY = "risk"
FALLBACK_INTENT = "nlu_fallback"

STORED_RULES = "safety.yml"


def safety_file() -> Path:
    """content/safety.yml (CARERS_CONTENT_DIR may point tests elsewhere)."""
    return content_dir() / "safety.yml"


STORED_MODEL = "risk_model.npz"


def training_level(message: Message) -> str:
    """acute for express_crisis, the example's ``metadata: {risk: …}`` if any, else none."""
    if message.get(INTENT) == CRISIS_INTENT:
        return ACUTE
    metadata = message.get("metadata") or {}
    example = metadata.get("example") if isinstance(metadata, dict) else None
    level = example.get("risk") if isinstance(example, dict) else None
    return level if level in (CONCERN, NONE) else NONE


def _confidence(item: dict[str, Any]) -> float:
    value = item.get(PREDICTED_CONFIDENCE_KEY)
    return float(value) if isinstance(value, (int, float)) else 0.0


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class RiskAssessor(GraphComponent, IntentClassifier):
    """Decides acute / concern / none once per message (see ``bot.nlu.risk``)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """``fallback_threshold`` must equal the FallbackClassifier's (a test checks); C and
        dense_weight are the risk model's, as for the intent classifier."""
        return {"fallback_threshold": 0.55, "C": 10.0, "dense_weight": 2.0}

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """An edit of content/safety.yml retrains (and so re-stores) the patterns."""
        return hashlib.sha256(safety_file().read_bytes()).hexdigest()

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        rules_text: str | None = None,
        model: tuple[FeatureScaler, LinearModel] | None = None,
    ) -> None:
        self.component_config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._rules_text = rules_text or safety_file().read_text(encoding="utf-8")
        self._rules: SafetyRules = parse_rules(yaml.safe_load(self._rules_text))
        self._thresholds = RiskThresholds.from_mapping(self._rules.risk_thresholds)
        self._model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RiskAssessor:
        """Compile the current content/safety.yml (a broken file stops training)."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the three-way embedding model; store it and the patterns' text."""
        examples = [m for m in training_data.intent_examples if isinstance(m.get(TEXT), str)]
        levels = [training_level(m) for m in examples]
        if set(levels) >= set(LEVELS):
            scaler, features = fit_scaler(examples, self.component_config["dense_weight"])
            self._model = (scaler, LinearModel.fit(features, levels, self.component_config["C"]))
        else:
            logger.warning("risk model not trained: the data lacks one of acute/concern/none")
        with self._model_storage.write_to(self._resource) as directory:
            (directory / STORED_RULES).write_text(self._rules_text, encoding="utf-8")
            if self._model is not None:
                scaler, linear = self._model
                np.savez(directory / STORED_MODEL, **linear.to_arrays(), **scaler.to_arrays())
        return self._resource

    def probabilities(self, message: Message) -> dict[str, float] | None:
        """P(acute / concern / none) for one message, or None without a trained model."""
        if self._model is None:
            return None
        scaler, linear = self._model
        row = linear.scores(scaled(scaler, [message]))[0]
        return {level: float(p) for level, p in zip(linear.classes, row, strict=True)}

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> RiskAssessor:
        """Use the patterns and model stored at training time, never the file on disk."""
        with model_storage.read_from(resource) as directory:
            rules_text = (directory / STORED_RULES).read_text(encoding="utf-8")
        stored = load_arrays(model_storage, resource, STORED_MODEL)
        model = (
            (FeatureScaler.from_arrays(stored), LinearModel.from_arrays(stored)) if stored else None
        )
        return cls(config, model_storage, resource, rules_text=rules_text, model=model)

    def process(self, messages: list[Message]) -> list[Message]:
        """Decide for every message; never raise, whatever the text."""
        for message in messages:
            try:
                self._process_one(message)
            except Exception:  # pragma: no cover - defensive: never break the parse
                logger.exception("risk assessment failed on a message; treating it as acute")
                self._set_acute(message)
                message.set(RISK_KEY, {"level": ACUTE, "reason": "error"}, add_to_output=True)
        return messages

    def _process_one(self, message: Message) -> None:
        decision = decide(
            message.get(TEXT),
            self._rules,
            message.get(INTENT_RANKING_KEY),
            self.probabilities(message),
            self._thresholds,
        )
        if decision.level == ACUTE:
            self._set_acute(message)
        else:
            self._drop_crisis(message)
        message.set(RISK_KEY, decision.as_parse_data(), add_to_output=True)
        logger.debug("risk: %s (%s)", decision.level, decision.reason)

    @staticmethod
    def _set_acute(message: Message) -> None:
        crisis = {INTENT_NAME_KEY: CRISIS_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
        rest = [
            dict(item)
            for item in (message.get(INTENT_RANKING_KEY) or [])
            if isinstance(item, dict) and item.get(INTENT_NAME_KEY) != CRISIS_INTENT
        ]
        message.set(INTENT, crisis, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [dict(crisis), *rest], add_to_output=True)
        # No specific answer goes with the crisis routes.
        entities = [e for e in (message.get(ENTITIES) or []) if e.get("entity") != ANSWER_ENTITY]
        message.set(ENTITIES, entities, add_to_output=True)

    def _drop_crisis(self, message: Message) -> None:
        """Not acute: express_crisis must not reach the dialogue; answer the real question."""
        intent = message.get(INTENT) or {}
        if intent.get(INTENT_NAME_KEY) != CRISIS_INTENT:
            return
        crisis_share = float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
        rest = max(1.0 - crisis_share, 1e-6)
        # Given that it is not a crisis, how likely is each topic? (renormalised)
        ranking = [
            {
                **item,
                PREDICTED_CONFIDENCE_KEY: min(
                    1.0, float(item.get(PREDICTED_CONFIDENCE_KEY) or 0) / rest
                ),
            }
            for item in (message.get(INTENT_RANKING_KEY) or [])
            if isinstance(item, dict)
            and item.get(INTENT_NAME_KEY) not in (CRISIS_INTENT, FALLBACK_INTENT)
        ]
        best = ranking[0] if ranking else None
        threshold = float(self.component_config["fallback_threshold"])
        if best is None or float(best.get(PREDICTED_CONFIDENCE_KEY) or 0.0) < threshold:
            best = {INTENT_NAME_KEY: FALLBACK_INTENT, PREDICTED_CONFIDENCE_KEY: threshold}
            ranking = [dict(best), *ranking]
        message.set(INTENT, dict(best), add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
