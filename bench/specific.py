"""Specific answers: does the first reply to a specific question hold the specific fact?

Each list in ``tests/data/heldout/`` names, for every question, the topic and a few phrases any
right answer would contain (``must_mention``; one is enough). Every question is sent in a fresh
conversation over REST to the real stack (``bot.launcher.Stack``: Rasa and the action server, so
hospital facts and follow-ups are included), and the text of every message the carer gets back
is searched. ``specific.yml`` is the frozen list (written independently; never tuned on); the
``specific_dev*.yml`` lists chose what to write, so they flatter.

Unanswerable questions (``unanswerable: true``) count as right when the reply says plainly that the
answer is not known (``GAP_PHRASES``) instead of falling back to the overview silently.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bench import REPO_ROOT
from bot.launcher import Stack

LOGGER = logging.getLogger("bench.specific")
HELDOUT = REPO_ROOT / "tests" / "data" / "heldout"
FROZEN = "specific.yml"
# What an honest "gap" answer says (the gap_* answers in data/answers/); lower case.
GAP_PHRASES = ("i don't have", "we don't have", "i can't tell", "we can't tell", "we can't say")


def load_list(path: Path) -> list[dict[str, Any]]:
    """The questions of one list (its ``questions:`` entries that have a text)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [item for item in data["questions"] if isinstance(item, dict) and item.get("text")]


def _plain(text: str) -> str:
    """Lower case with typographic apostrophes made plain, so phrases and replies compare."""
    return text.lower().replace("’", "'")


def reply_text(messages: list[dict[str, Any]]) -> str:
    """Everything the carer reads in one reply, buttons included, in lower case."""
    parts: list[str] = []
    for message in messages:
        parts.append(str(message.get("text") or ""))
        parts.extend(str(b.get("title") or "") for b in message.get("buttons") or [])
    return _plain("\n".join(parts))


def is_right(item: dict[str, Any], reply: str) -> bool:
    """Any one of the phrases is in the reply; a gap question wants the honest gap line."""
    if item.get("unanswerable"):
        return any(phrase in reply for phrase in GAP_PHRASES)
    return any(_plain(str(p)) in reply for p in item.get("must_mention") or [])


async def _ask_all(base_url: str, items: list[dict[str, Any]]) -> list[str]:
    url = base_url.rstrip("/") + "/webhooks/rest/webhook"
    replies: list[str] = []
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for item in items:
            payload = {"sender": f"bench-{uuid.uuid4().hex}", "message": item["text"]}
            async with session.post(url, json=payload) as response:
                messages = await response.json() if response.status == 200 else []
            replies.append(reply_text(messages if isinstance(messages, list) else []))
    return replies


def score(items: list[dict[str, Any]], replies: list[str], frozen: bool) -> dict[str, Any]:
    """Share right, by topic, and (development lists only) the questions that missed and the
    start of their reply: a frozen list's misses are never shown, so nobody tunes on them."""
    answerable = [(i, r) for i, r in zip(items, replies, strict=True) if not i.get("unanswerable")]
    gaps = [(i, r) for i, r in zip(items, replies, strict=True) if i.get("unanswerable")]
    right = [is_right(i, r) for i, r in answerable]
    asked = Counter(i.get("topic", "?") for i, _ in answerable)
    hits = Counter(i.get("topic", "?") for (i, _), ok in zip(answerable, right, strict=True) if ok)
    return {
        "questions": len(answerable),
        "right": sum(right),
        "share": round(sum(right) / len(answerable), 4) if answerable else None,
        "per_topic": {t: f"{hits[t]}/{n}" for t, n in sorted(asked.items())},
        "gap_questions": len(gaps),
        "gap_honest": sum(is_right(i, r) for i, r in gaps),
        "missed": []
        if frozen
        else [
            {"topic": i.get("topic"), "text": i["text"], "reply": r[:240]}
            for (i, r), ok in zip(answerable, right, strict=True)
            if not ok
        ],
    }


def measure_specific(model: Path, workdir: Path, lists: list[Path] | None = None) -> dict[str, Any]:
    """Start the stack once and score every list in ``tests/data/heldout/specific*.yml``."""
    lists = lists or sorted(HELDOUT.glob("specific*.yml"))
    workdir.mkdir(parents=True, exist_ok=True)
    stack = Stack.on_free_ports(model, workdir)
    stack.start()
    results: dict[str, Any] = {}
    try:
        for path in lists:
            items = load_list(path)
            replies = asyncio.run(_ask_all(stack.rasa_url, items))
            frozen = path.name == FROZEN
            results[path.stem] = {"frozen": frozen, **score(items, replies, frozen)}
            LOGGER.info("%s: %s/%s", path.stem, results[path.stem]["right"], len(items))
    finally:
        stack.stop()
    return results


if __name__ == "__main__":  # python -m bench.specific [model] [list ...]: one quick look
    import json
    import sys
    import tempfile

    logging.basicConfig(level=logging.INFO)
    default_model = REPO_ROOT / "models" / "carers.tar.gz"
    chosen_model = Path(sys.argv[1]) if len(sys.argv) > 1 else default_model
    chosen = [Path(p) for p in sys.argv[2:]] or None
    with tempfile.TemporaryDirectory() as tmp:
        out = measure_specific(chosen_model, Path(tmp), chosen)
    print(json.dumps(out, indent=1, ensure_ascii=False))
