"""AnswerSelector: picks the specific answer under the predicted topic (retrieval intents).

Each topic intent (``ask_visiting``) is a Rasa retrieval intent: its examples are labelled
``ask_visiting/<key>`` and the answers are responses ``utter_ask_visiting/<key>``
(data/answers/). ``ask_<topic>/general`` marks general questions, answered by the topic's
overview ``utter_<topic>``.

Why not Rasa's ``ResponseSelector``: on this 2-core machine it trained at 10–25 s an epoch over
~150 answers (well over ten minutes for 60 epochs, against a 4-minute budget for the whole
model), and with one selector for all topics it can pick an answer from another topic than the
intent classifier chose. This component fits one logistic regression per topic on the same
scaled features as the intent classifier (seconds) and only ever answers within the predicted
topic. Its output has the shape of Rasa's ``response_selector`` parse data, so Rasa's own
retrieval action (``utter_ask_visiting``) sends the answer, with its conditional (nation)
variations.

How the dialogue knows which to send (data/rules/topics.yml): when a specific answer is chosen
with enough confidence the message gets the entity ``answer`` and the rule sends
``utter_ask_<topic>``; otherwise no entity, and the rule sends the overview. A button press
(``/ask_visiting``) skips NLU output altogether (Rasa's RegexMessageHandler rebuilds the message),
so buttons always get the overview.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    RESPONSE_SELECTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.features import FeatureScaler, LinearModel
from bot.nlu.storage import fit_scaler, load_arrays, save_arrays, scaled

logger = logging.getLogger(__name__)

MODEL_FILE = "answers.npz"
GENERAL = "general"
ANSWER_ENTITY = "answer"


def answer_key(message: Message) -> str | None:
    """``bring_money`` for an example labelled ``ask_visiting/bring_money``."""
    full = message.get(INTENT_RESPONSE_KEY)
    if isinstance(full, str) and "/" in full:
        return full.split("/", 1)[1]
    return None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class AnswerSelector(GraphComponent):
    """One small classifier per topic over the answers' keys (see the module docstring)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """``threshold``: below it the overview answers; set from cross-validation (bench/)."""
        return {"C": 10.0, "dense_weight": 2.0, "threshold": 0.3, "ranking_length": 5}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        scaler: FeatureScaler | None = None,
        topics: dict[str, LinearModel] | None = None,
    ) -> None:
        self.component_config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._scaler = scaler
        self._topics = topics or {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> AnswerSelector:
        """An untrained selector."""
        return cls(config, model_storage, resource)

    @property
    def retrieval_intents(self) -> list[str]:
        """The topics that have answers."""
        return sorted(self._topics)

    def train(self, training_data: TrainingData) -> Resource:
        """One regression per retrieval intent that has two answers or more."""
        examples = [
            m
            for m in training_data.intent_examples
            if answer_key(m) is not None and isinstance(m.get(TEXT), str)
        ]
        if not examples:
            return self._resource
        self._scaler, features = fit_scaler(examples, self.component_config["dense_weight"])
        intents = np.array([str(m.get(INTENT)) for m in examples])
        keys = [str(answer_key(m)) for m in examples]
        for intent in sorted(set(intents)):
            rows = np.flatnonzero(intents == intent)
            labels = [keys[i] for i in rows]
            if len(set(labels)) < 2:
                logger.warning("%s has one answer only: nothing to select", intent)
                continue
            self._topics[intent] = LinearModel.fit(
                features[rows], labels, self.component_config["C"]
            )
        arrays: dict[str, np.ndarray] = dict(self._scaler.to_arrays())
        arrays["topics"] = np.array(sorted(self._topics), dtype=str)
        for intent, model in self._topics.items():
            arrays.update(model.to_arrays(suffix=f"__{intent}"))
        save_arrays(self._model_storage, self._resource, MODEL_FILE, arrays)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> AnswerSelector:
        """Read the stored arrays (an empty selector if there are none)."""
        stored = load_arrays(model_storage, resource, MODEL_FILE)
        if not stored:
            return cls(config, model_storage, resource)
        topics = {
            str(intent): LinearModel.from_arrays(stored, suffix=f"__{intent}")
            for intent in stored["topics"]
        }
        return cls(config, model_storage, resource, FeatureScaler.from_arrays(stored), topics)

    def rank(self, message: Message, intent: str) -> list[tuple[str, float]]:
        """(key, probability) for every answer of ``intent``, best first."""
        if self._scaler is None or intent not in self._topics:
            return []
        model = self._topics[intent]
        scores = model.scores(scaled(self._scaler, [message]))[0]
        order = np.argsort(-scores)
        return [(model.classes[i], float(scores[i])) for i in order]

    def process(self, messages: list[Message]) -> list[Message]:
        """Attach the chosen answer for the predicted topic, and the ``answer`` entity."""
        for message in messages:
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if not isinstance(intent, str) or intent not in self._topics:
                continue
            ranking = self.rank(message, intent)
            if not ranking:
                continue
            key, confidence = ranking[0]
            full_key = f"{intent}/{key}"
            length = int(self.component_config["ranking_length"])
            selector = dict(message.get(RESPONSE_SELECTOR) or {})
            selector["all_retrieval_intents"] = self.retrieval_intents
            selector[intent] = {
                "response": {
                    "responses": [],
                    PREDICTED_CONFIDENCE_KEY: confidence,
                    INTENT_RESPONSE_KEY: full_key,
                    "utter_action": f"utter_{full_key}",
                },
                "ranking": [
                    {PREDICTED_CONFIDENCE_KEY: p, INTENT_RESPONSE_KEY: f"{intent}/{k}"}
                    for k, p in ranking[:length]
                ],
            }
            message.set(RESPONSE_SELECTOR, selector, add_to_output=True)
            if key != GENERAL and confidence >= float(self.component_config["threshold"]):
                text = message.get(TEXT) or ""
                entity = {
                    ENTITY_ATTRIBUTE_TYPE: ANSWER_ENTITY,
                    ENTITY_ATTRIBUTE_VALUE: key,
                    ENTITY_ATTRIBUTE_START: 0,
                    ENTITY_ATTRIBUTE_END: len(text),
                    PREDICTED_CONFIDENCE_KEY: confidence,
                    EXTRACTOR: self.__class__.__name__,
                }
                message.set(ENTITIES, [*(message.get(ENTITIES) or []), entity], add_to_output=True)
        return messages
