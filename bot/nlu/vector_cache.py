"""A disk cache of sentence vectors by text, so a retraining encodes only the texts that changed.

Rasa's own training cache cannot help the sentence featurizer: one edited example changes the
fingerprint of the whole training data, so the featurizer runs again on every text (MiniLM over
~4,600 texts is about 100 s of a 4-minute training). This cache keeps each text's vector, keyed
by a hash of the text and of everything that shapes the vector (the model package's version and
the encoder's padding buckets), in a file inside Rasa's cache directory (``RASA_CACHE_DIRECTORY``,
default ``.rasa/cache``). A training with a fresh cache directory, as ``make bench`` measures a
cold one, is therefore still cold, and ``make clean`` removes it with Rasa's cache.

Only training uses it (``SentenceEmbeddingFeaturizer.process_training_data``): a carer's message
is always encoded afresh. No Rasa import here, so the fast tests can cover it.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

FILE_NAME = "carers-sentence-vectors.npz"
# About 75 MB at 384 float32 dimensions; the least recently used entries go first.
MAX_ENTRIES = 50_000


def cache_dir() -> Path:
    """Rasa's cache directory, as Rasa itself resolves it."""
    return Path(os.environ.get("RASA_CACHE_DIRECTORY", Path(".rasa", "cache")))


def key(text: str, version: str) -> str:
    """The cache key of one text's vector under one model version."""
    return hashlib.blake2b(f"{version}\0{text}".encode(), digest_size=16).hexdigest()


class VectorCache:
    """Text -> vector, kept in one ``.npz`` file; a broken or missing file starts it empty."""

    def __init__(self, path: Path, version: str, max_entries: int = MAX_ENTRIES) -> None:
        self.path = path
        self.version = version
        self.max_entries = max_entries
        self._vectors: dict[str, np.ndarray] = {}
        self._load()

    def _load(self) -> None:
        if not self.path.is_file():
            return
        try:
            with np.load(self.path, allow_pickle=False) as stored:
                keys, vectors = stored["keys"], stored["vectors"]
            if len(keys) != len(vectors):
                raise ValueError("keys and vectors differ in length")
            self._vectors = {str(k): v for k, v in zip(keys, vectors, strict=True)}
        except (OSError, KeyError, ValueError) as err:
            logger.warning("ignoring the sentence-vector cache %s: %s", self.path, err)
            self._vectors = {}

    def _save(self) -> None:
        items = list(self._vectors.items())[-self.max_entries :]
        self._vectors = dict(items)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with partial.open("wb") as handle:
            np.savez(
                handle,
                keys=np.array([k for k, _ in items], dtype="U32"),
                vectors=np.stack([v for _, v in items]).astype(np.float32),
            )
        os.replace(partial, self.path)  # atomic: a reader sees the old file or the new one

    def __len__(self) -> int:
        return len(self._vectors)

    def encode(
        self, texts: Sequence[str], encode: Callable[[Sequence[str]], np.ndarray]
    ) -> np.ndarray:
        """Vectors for ``texts``, encoding (with ``encode``) only those not cached yet."""
        keys = [key(text, self.version) for text in texts]
        missing = sorted(
            {k: t for k, t in zip(keys, texts, strict=True) if k not in self._vectors}.items()
        )
        if missing:
            for k in keys:  # keep what this training used: it goes last, so it is evicted last
                if k in self._vectors:
                    self._vectors[k] = self._vectors.pop(k)
            fresh = encode([text for _, text in missing])
            for (k, _), vector in zip(missing, fresh, strict=True):
                self._vectors[k] = np.asarray(vector, dtype=np.float32)
            try:
                self._save()
            except OSError as err:  # a read-only checkout still trains, just without the cache
                logger.warning("could not write the sentence-vector cache %s: %s", self.path, err)
        logger.info(
            "sentence vectors: %d cached, %d encoded", len(texts) - len(missing), len(missing)
        )
        return np.stack([self._vectors[k] for k in keys]) if keys else np.zeros((0, 0), np.float32)
