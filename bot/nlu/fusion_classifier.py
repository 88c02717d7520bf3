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
import scipy.sparse as sp
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    FEATURE_TYPE_SENTENCE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.features import FeatureScaler, softmax_scores, stack_rows

logger = logging.getLogger(__name__)

MODEL_FILE = "fusion.npz"


def sentence_features(message: Message) -> tuple[dict[str, sp.spmatrix], dict[str, np.ndarray]]:
    """The message's TEXT sentence features, keyed by the featurizer that made them."""
    sparse: dict[str, sp.spmatrix] = {}
    dense: dict[str, np.ndarray] = {}
    for feature in message.features:
        if feature.attribute != TEXT or feature.type != FEATURE_TYPE_SENTENCE:
            continue
        if feature.is_sparse():
            sparse[feature.origin] = sp.csr_matrix(feature.features)
        else:
            dense[feature.origin] = np.asarray(feature.features).reshape(1, -1)
    return sparse, dense


def fit_logistic(features: sp.csr_matrix, labels: list[str], c: float) -> tuple[Any, list[str]]:
    """Multinomial logistic regression, balanced classes, deterministic."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=42)
    model.fit(features, labels)
    return model, [str(c) for c in model.classes_]


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
        classes: list[str] | None = None,
        coef: np.ndarray | None = None,
        intercept: np.ndarray | None = None,
    ) -> None:
        self.component_config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._scaler = scaler
        self._classes = classes or []
        self._coef = coef
        self._intercept = intercept

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
        sparse, dense = stack_rows([sentence_features(m) for m in examples])
        self._scaler = FeatureScaler.fit(sparse, dense, self.component_config["dense_weight"])
        model, self._classes = fit_logistic(
            self._scaler.transform(sparse, dense), labels, self.component_config["C"]
        )
        self._coef, self._intercept = model.coef_, model.intercept_
        self._persist()
        return self._resource

    def _persist(self) -> None:
        assert self._scaler is not None and self._coef is not None
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(
                directory / MODEL_FILE,
                classes=np.array(self._classes, dtype=str),
                coef=self._coef,
                intercept=self._intercept,
                **self._scaler.to_arrays(),
            )

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
        try:
            with (
                model_storage.read_from(resource) as directory,
                np.load(directory / MODEL_FILE, allow_pickle=False) as arrays,
            ):
                stored = {key: arrays[key] for key in arrays.files}
        except (ValueError, FileNotFoundError):
            logger.warning("no trained intent classifier in the model")
            return cls(config, model_storage, resource)
        return cls(
            config,
            model_storage,
            resource,
            scaler=FeatureScaler.from_arrays(stored),
            classes=[str(c) for c in stored["classes"]],
            coef=stored["coef"],
            intercept=stored["intercept"],
        )

    def predict_scores(self, messages: list[Message]) -> np.ndarray:
        """Probabilities per class (columns in ``classes`` order), one row per message."""
        assert self._scaler is not None and self._coef is not None
        sparse, dense = stack_rows([sentence_features(m) for m in messages])
        return softmax_scores(self._scaler.transform(sparse, dense), self._coef, self._intercept)

    @property
    def classes(self) -> list[str]:
        """The intents this classifier knows."""
        return list(self._classes)

    def process(self, messages: list[Message]) -> list[Message]:
        """Set the intent and the ranking (top ``ranking_length``) on each message."""
        if self._coef is None or not messages:
            return messages
        scores = self.predict_scores(messages)
        length = int(self.component_config["ranking_length"]) or len(self._classes)
        for message, row in zip(messages, scores, strict=True):
            order = np.argsort(-row)[:length]
            ranking = [
                {INTENT_NAME_KEY: self._classes[i], PREDICTED_CONFIDENCE_KEY: float(row[i])}
                for i in order
            ]
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
