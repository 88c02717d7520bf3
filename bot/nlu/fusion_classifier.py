"""Intent classifier: logistic regression on TF-IDF-scaled sparse + weighted MiniLM features.

Chosen over DIET and Rasa's ``LogisticRegressionClassifier`` by cross-validation in
``make bench`` (BENCHMARKS.md): the difference is the scaling in ``bot.nlu.features``. It trains
in seconds, so an edited example costs one quick retrain, and its probabilities are calibrated
enough for the FallbackClassifier thresholds to be set from the cross-validation records.

The model file holds plain arrays (``np.savez``): no pickle is ever loaded.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
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
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.features import FeatureScaler, LinearModel
from bot.nlu.storage import fit_scaler, load_arrays, save_arrays, scaled

logger = logging.getLogger(__name__)

MODEL_FILE = "fusion.npz"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FusionIntentClassifier(GraphComponent, IntentClassifier):
    """Predicts the intent from every sentence-level feature set, scaled to count equally."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """C and the dense weight were chosen by cross-validation (bench/)."""
        return {"C": 10.0, "dense_weight": 2.0, "ranking_length": 10}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        scaler: FeatureScaler | None = None,
        model: LinearModel | None = None,
    ) -> None:
        self.component_config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._scaler = scaler
        self._model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FusionIntentClassifier:
        """An untrained classifier."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the scaler and the regression on every intent example."""
        examples = [
            m
            for m in training_data.intent_examples
            if m.get(INTENT) and isinstance(m.get(TEXT), str)
        ]
        labels = [str(m.get(INTENT)) for m in examples]
        if len(set(labels)) < 2:
            logger.warning("fewer than two intents: the intent classifier is not trained")
            return self._resource
        self._scaler, features = fit_scaler(examples, self.component_config["dense_weight"])
        self._model = LinearModel.fit(features, labels, self.component_config["C"])
        save_arrays(
            self._model_storage,
            self._resource,
            MODEL_FILE,
            {**self._model.to_arrays(), **self._scaler.to_arrays()},
        )
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> FusionIntentClassifier:
        """Read the stored arrays (an untrained classifier if there are none)."""
        stored = load_arrays(model_storage, resource, MODEL_FILE)
        if not stored:
            logger.warning("no trained intent classifier in the model")
            return cls(config, model_storage, resource)
        return cls(
            config,
            model_storage,
            resource,
            FeatureScaler.from_arrays(stored),
            LinearModel.from_arrays(stored),
        )

    def predict_scores(self, messages: list[Message]) -> np.ndarray:
        """Probabilities per class (columns in ``classes`` order), one row per message."""
        assert self._scaler is not None and self._model is not None
        return self._model.scores(scaled(self._scaler, messages))

    @property
    def classes(self) -> list[str]:
        """The intents this classifier knows."""
        return list(self._model.classes) if self._model else []

    def process(self, messages: list[Message]) -> list[Message]:
        """Set the intent and the ranking (top ``ranking_length``) on each message."""
        if self._model is None or not messages:
            return messages
        scores = self.predict_scores(messages)
        classes = self._model.classes
        length = int(self.component_config["ranking_length"]) or len(classes)
        for message, row in zip(messages, scores, strict=True):
            order = np.argsort(-row)[:length]
            ranking = [
                {INTENT_NAME_KEY: classes[i], PREDICTED_CONFIDENCE_KEY: float(row[i])}
                for i in order
            ]
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
