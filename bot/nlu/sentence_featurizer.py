"""Rasa dense featurizer: one MiniLM sentence vector per message (``bot.nlu.encoder``).

Sentence features only: the classifiers here use sentence-level features, and MiniLM's word
pieces do not line up with the whitespace tokens that sequence features must match. Texts are
encoded in batches during training and one message at a time when serving.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.encoder import BUCKETS, MODEL_PACKAGE, encoder
from bot.nlu.vector_cache import FILE_NAME, VectorCache, cache_dir


def model_version() -> str:
    """Everything that shapes a vector: the model package's version and the padding buckets."""
    from importlib.metadata import version

    return f"{MODEL_PACKAGE}=={version(MODEL_PACKAGE.replace('_', '-'))};buckets={BUCKETS}"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a 384-d, L2-normalised MiniLM sentence feature to the TEXT of every message."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Rasa's featurizer options (``alias``); the model itself is fixed."""
        return {**DenseFeaturizer.get_default_config()}

    @classmethod
    def required_packages(cls) -> list[str]:
        """Checked by Rasa before training."""
        return ["tensorflow", "transformers", MODEL_PACKAGE]

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """A different model package means different features: retrain."""
        return model_version()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEmbeddingFeaturizer:
        """Load the encoder now, so a broken install fails at start, not on a carer's message."""
        encoder()
        return cls(config, execution_context.node_name)

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)

    def _featurize(self, messages: list[Message], cached: bool = False) -> None:
        with_text = [m for m in messages if isinstance(m.get(TEXT), str)]
        if not with_text:
            return
        texts = [m.get(TEXT) for m in with_text]
        if cached:
            vectors = VectorCache(cache_dir() / FILE_NAME, model_version()).encode(
                texts, encoder().encode
            )
        else:
            vectors = encoder().encode(texts)
        for message, vector in zip(with_text, vectors, strict=True):
            self.add_features_to_message(
                sequence=None,
                sentence=np.asarray(vector, dtype=np.float32).reshape(1, -1),
                attribute=TEXT,
                message=message,
            )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurise every training example that has text (responses have none here). Vectors
        of texts an earlier training already encoded come from the cache (vector_cache.py)."""
        self._featurize(training_data.training_examples, cached=True)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurise incoming messages."""
        self._featurize(messages)
        return messages

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Nothing to validate beyond Rasa's own keys."""
