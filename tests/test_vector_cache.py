"""The sentence-vector cache: retraining encodes only new texts (bot/nlu/vector_cache.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.nlu.vector_cache import VectorCache, cache_dir


class CountingEncoder:
    """Stands in for MiniLM: a vector from the text's length, and a record of each call."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.array([[len(t), 1.0, 0.0] for t in texts], dtype=np.float32)


def test_only_new_texts_are_encoded_and_order_is_kept(tmp_path: Path) -> None:
    path, encode = tmp_path / "v.npz", CountingEncoder()
    first = VectorCache(path, "m1").encode(["a", "bb", "a"], encode)
    assert first[:, 0].tolist() == [1.0, 2.0, 1.0]
    assert encode.calls == [["a", "bb"]]  # each text once
    again = VectorCache(path, "m1").encode(["ccc", "bb", "a"], encode)  # a new process
    assert again[:, 0].tolist() == [3.0, 2.0, 1.0]
    assert encode.calls[1:] == [["ccc"]]


def test_another_model_version_encodes_again(tmp_path: Path) -> None:
    path, encode = tmp_path / "v.npz", CountingEncoder()
    VectorCache(path, "m1").encode(["a"], encode)
    VectorCache(path, "m2").encode(["a"], encode)
    assert encode.calls == [["a"], ["a"]]


def test_a_broken_file_is_ignored_and_replaced(tmp_path: Path) -> None:
    path, encode = tmp_path / "v.npz", CountingEncoder()
    path.write_bytes(b"not an npz file")
    assert VectorCache(path, "m1").encode(["a"], encode)[:, 0].tolist() == [1.0]
    assert len(VectorCache(path, "m1")) == 1


def test_the_least_recently_used_entries_go_first_when_full(tmp_path: Path) -> None:
    path, encode = tmp_path / "v.npz", CountingEncoder()
    cache = VectorCache(path, "m1", max_entries=2)
    for text in ("a", "bb", "ccc"):
        cache.encode([text], encode)
    reloaded = VectorCache(path, "m1", max_entries=2)
    assert len(reloaded) == 2
    reloaded.encode(["bb", "ccc"], encode)
    assert encode.calls == [["a"], ["bb"], ["ccc"]]  # "bb" and "ccc" were kept
    # "bb" used again in a training that also encodes something new: "ccc" goes, not "bb"
    reloaded.encode(["bb", "dddd"], encode)
    assert encode.calls[-1] == ["dddd"]
    VectorCache(path, "m1", max_entries=2).encode(["bb"], encode)
    assert encode.calls[-1] == ["dddd"]  # "bb" still cached


def test_it_lives_in_rasas_cache_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """So a training with a fresh Rasa cache (make bench's cold run) is really cold."""
    monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(tmp_path))
    assert cache_dir() == tmp_path
    monkeypatch.delenv("RASA_CACHE_DIRECTORY")
    assert cache_dir() == Path(".rasa", "cache")
