"""What the three trained NLU components share with Rasa: their features in, their arrays out.

The intent classifier, the answer selector and the risk assessor all read a message's sentence
features by the featurizer that made them, and keep their weights as plain arrays in the model
(``np.savez``, loaded with ``allow_pickle=False``: a model file never runs code).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.features import FeatureScaler, stack_rows

Row = tuple[dict[str, sp.spmatrix], dict[str, np.ndarray]]


def sentence_features(message: Message) -> Row:
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


def fit_scaler(messages: list[Message], dense_weight: float) -> tuple[FeatureScaler, sp.csr_matrix]:
    """A scaler fitted on these messages, and their scaled features."""
    sparse, dense = stack_rows([sentence_features(m) for m in messages])
    scaler = FeatureScaler.fit(sparse, dense, dense_weight)
    return scaler, scaler.transform(sparse, dense)


def scaled(scaler: FeatureScaler, messages: list[Message]) -> sp.csr_matrix:
    """The messages' features, scaled as at training time."""
    sparse, dense = stack_rows([sentence_features(m) for m in messages])
    return scaler.transform(sparse, dense)


def save_arrays(
    storage: ModelStorage, resource: Resource, name: str, arrays: Mapping[str, np.ndarray]
) -> None:
    """Write a component's arrays into the model."""
    with storage.write_to(resource) as directory:
        np.savez(directory / name, **arrays)


def load_arrays(storage: ModelStorage, resource: Resource, name: str) -> dict[str, np.ndarray]:
    """A component's arrays from the model; empty when it was never trained."""
    try:
        with (
            storage.read_from(resource) as directory,
            np.load(directory / name, allow_pickle=False) as arrays,
        ):
            return {key: arrays[key] for key in arrays.files}
    except (ValueError, FileNotFoundError):
        return {}
