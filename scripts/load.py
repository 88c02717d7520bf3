"""Load test: N concurrent conversations x M turns through Rasa's REST channel on loopback.

Each conversation is one simulated carer (its own sender id) sending M messages one after
another, as a person would; the N conversations run at the same time. Messages are drawn from a
varied set of realistic carers' questions, small talk and a few requests that run custom
actions (films, local contacts).

It counts:

* errors: anything but HTTP 200 with a JSON list (5xx, 4xx, time-outs, refused connections);
* missing replies: HTTP 200 with an empty list (Rasa said nothing);
* fallback replies: the channel's "something went wrong" message (Rasa failed inside the turn);

and reports latency percentiles. Exit code 0 only when all three counts are zero.

    python scripts/load.py --url http://127.0.0.1:5005 --conversations 50 --turns 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.channels.replies import fallback_messages  # noqa: E402 - after the path fix above

# Realistic turns, across the topics, with the odd typo and lower-case message people send.
MESSAGES: tuple[str, ...] = (
    "hello",
    "hi there",
    "good morning",
    "what can you help me with?",
    "How do I book a visit to see my son?",
    "visiting times?",
    "can I bring my grandchildren when I visit",
    "is there any help with the cost of travel to the hospital",
    "its a 3 hour drive, is there anywhere to stay nearby",
    "the staff won't tell me anything because of confidentiality",
    "can I be involved in his care plan meetings",
    "what is a CPA review",
    "who is the carers lead on the ward",
    "is there an information pack for families",
    "what happens when he moves from medium secure to low secure",
    "what rights does the nearest relative have",
    "how do I make a complaint about the ward",
    "what is a tribunal",
    "I'm exhausted and not sleeping, how do I look after myself",
    "are there support groups for carers like me",
    "the neighbours keep talking about us since it was in the paper",
    "what is the triangle of care",
    "what is this toolkit",
    "what is a secure hospital",
    "what does medium secure mean",
    "show me the films",
    "are there any videos from other families",
    "carers centre near Leeds",
    "who can I contact near Nottingham",
    "can I talk to a real person",
    "are you a bot?",
    "thanks, that helps",
    "thank you",
    "yes please",
    "no thanks",
    "ok",
    "bye",
    "I feel so overwhelmed by all of this",
    "what's the weather like tomorrow",
    "can u tell me about visting",
)


@dataclass
class LoadResult:
    """What happened, in numbers."""

    conversations: int
    turns: int
    requests: int = 0
    errors: int = 0
    missing_replies: int = 0
    fallback_replies: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    max_ms: float = 0.0
    error_examples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.errors == 0 and self.missing_replies == 0 and self.fallback_replies == 0


def percentile(values: Sequence[float], share: float) -> float:
    """The value below which ``share`` of ``values`` fall (nearest rank)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


async def _conversation(
    session: aiohttp.ClientSession,
    url: str,
    sender: str,
    turns: int,
    rng: random.Random,
    result: LoadResult,
    latencies: list[float],
    fallback_texts: set[str],
) -> None:
    for _ in range(turns):
        payload = {"sender": sender, "message": rng.choice(MESSAGES)}
        started = time.perf_counter()
        result.requests += 1
        try:
            async with session.post(url, json=payload) as response:
                body = await response.text()
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status != 200:
                    result.errors += 1
                    result.error_examples.append(f"HTTP {response.status}")
                    continue
                messages = json.loads(body)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as err:
            result.errors += 1
            result.error_examples.append(type(err).__name__)
            continue
        if not isinstance(messages, list):
            result.errors += 1
            result.error_examples.append("answer is not a JSON list")
        elif not messages:
            result.missing_replies += 1
        elif any(m.get("text") in fallback_texts for m in messages if isinstance(m, dict)):
            result.fallback_replies += 1


async def run_load(
    base_url: str,
    conversations: int,
    turns: int,
    seed: int = 0,
    timeout: float = 120.0,
) -> LoadResult:
    """Run the load against a Rasa server at ``base_url`` and return the counts."""
    url = base_url.rstrip("/") + "/webhooks/rest/webhook"
    result = LoadResult(conversations=conversations, turns=turns)
    latencies: list[float] = []
    fallback_texts = {str(message["text"]) for message in fallback_messages()}
    run_id = uuid.uuid4().hex[:8]
    connector = aiohttp.TCPConnector(limit=conversations)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        await asyncio.gather(
            *(
                _conversation(
                    session,
                    url,
                    f"load-{run_id}-{index}",
                    turns,
                    random.Random(seed * 100_003 + index),
                    result,
                    latencies,
                    fallback_texts,
                )
                for index in range(conversations)
            )
        )
    result.seconds = round(time.perf_counter() - started, 2)
    result.p50_ms = round(statistics.median(latencies), 1) if latencies else 0.0
    result.p95_ms = round(percentile(latencies, 0.95), 1)
    result.max_ms = round(max(latencies), 1) if latencies else 0.0
    result.error_examples = sorted(set(result.error_examples))[:10]
    return result


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:5005", help="Rasa server base URL")
    parser.add_argument("--conversations", "-n", type=int, default=50)
    parser.add_argument("--turns", "-m", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    result = asyncio.run(
        run_load(args.url, args.conversations, args.turns, args.seed, args.timeout)
    )
    if args.json:
        print(json.dumps({**asdict(result), "ok": result.ok}))
    else:
        print(
            f"{result.conversations} conversations x {result.turns} turns = "
            f"{result.requests} requests in {result.seconds:.1f} s\n"
            f"errors: {result.errors}  missing replies: {result.missing_replies}  "
            f"fallback replies: {result.fallback_replies}\n"
            f"latency p50 {result.p50_ms:.0f} ms  p95 {result.p95_ms:.0f} ms  "
            f"max {result.max_ms:.0f} ms"
        )
        if result.error_examples:
            print("error kinds: " + ", ".join(result.error_examples))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
