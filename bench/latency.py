"""Speed and memory under load: the real stack on loopback, driven like carers drive it.

One run starts the real action server and Rasa (``bot.launcher.Stack``, the code ``make run``
uses) on free ports with a throw-away tracker database, plus the real Telegram bridge
(``python -m bot.telegram``) pointed at the fake Bot API from the Telegram tests. Then:

1. bare ``/model/parse`` latency, one request at a time (the floor: NLU only, no dialogue),
   then whole REST conversations one message at a time, with the Rasa process's CPU time per
   message (steady on a shared machine, and it caps what one Sanic worker can serve);
2. for 1, 10, 20, 50 carers: each holds multi-turn conversations over REST, thinks 1-3 s
   (seeded) between messages and arrives at a different moment; latency is measured after
   everyone has arrived;
3. closed loop (no thinking): ``scripts/load.py``'s client at two concurrencies; the better
   messages per second is what the assistant sustains;
4. Telegram chats through the bridge, so the bridge's memory is measured under its own load.

RSS of every service is sampled throughout (``bench.memory``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp

from bench import REPO_ROOT, SEED, import_file
from bench.memory import RssSampler, tree_cpu_ms
from bench.metrics import latency_summary, load_script
from bot.channels.replies import fallback_messages
from bot.launcher import Stack, child_env

LOGGER = logging.getLogger("bench.latency")

# Multi-turn conversations as carers hold them: greetings, a topic, follow-ups (including the
# film offer and the contacts form's "where?"), thanks. One is a crisis, which must be fast too.
FLOWS: tuple[tuple[str, ...], ...] = (
    (
        "hello",
        "How do I book a visit to see my son?",
        "yes please",
        "can I bring my grandchildren when I visit",
        "thank you",
        "bye",
    ),
    (
        "hi there",
        "what is a secure hospital",
        "what does medium secure mean",
        "what happens when he moves from medium secure to low secure",
        "thanks, that helps",
    ),
    (
        "the staff won't tell me anything because of confidentiality",
        "can I be involved in his care plan meetings",
        "who is the carers lead on the ward",
        "ok",
        "bye",
    ),
    (
        "I'm exhausted and not sleeping, how do I look after myself",
        "are there support groups for carers like me",
        "carers centre near Leeds",
        "thank you",
    ),
    ("good morning", "who can I contact near me", "Nottingham", "no thanks", "bye"),
    (
        "what can you help me with?",
        "show me the films",
        "are there any videos from other families",
        "thanks",
    ),
    (
        "is there any help with the cost of travel to the hospital",
        "its a 3 hour drive, is there anywhere to stay nearby",
        "can u tell me about visting",
        "bye",
    ),
    (
        "are you a bot?",
        "can I talk to a real person",
        "what rights does the nearest relative have",
        "what is a tribunal",
        "thank you",
    ),
    (
        "I feel so overwhelmed by all of this",
        "the neighbours keep talking about us since it was in the paper",
        "what is the triangle of care",
        "thanks",
    ),
    (
        "what's the weather like tomorrow",
        "what is this toolkit",
        "is there an information pack for families",
        "bye",
    ),
    ("I can't go on like this, I want to end it all", "thank you"),
)


WARM_UP = 5  # unmeasured requests before the one-at-a-time phases


@dataclass(frozen=True)
class SpeedSettings:
    """How long and how hard; ``quick()`` is the smoke run."""

    levels: tuple[int, ...] = (1, 10, 20, 50)
    level_seconds: float = 45.0
    ramp_seconds: float = 10.0
    think: tuple[float, float] = (1.0, 3.0)
    parse_requests: int = 200
    sequential_messages: int = 120
    closed_loop: tuple[tuple[int, int], ...] = ((4, 40), (16, 20))  # (concurrency, turns)
    telegram_chats: int = 10
    telegram_seconds: float = 20.0

    @classmethod
    def quick(cls) -> SpeedSettings:
        return cls(
            levels=(1, 5),
            level_seconds=8.0,
            ramp_seconds=2.0,
            parse_requests=20,
            sequential_messages=12,
            closed_loop=((4, 5),),
            telegram_chats=2,
            telegram_seconds=5.0,
        )


@cache
def telegram_fakes() -> ModuleType:
    """tests/telegram/conftest.py, where the fake Bot API lives (reused, not copied)."""
    return import_file(REPO_ROOT / "tests" / "telegram" / "conftest.py", "carers_telegram_fakes")


class Outcome:
    """Counts and latencies of one phase."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.requests = 0
        self.errors = 0
        self.empty = 0
        self.fallback = 0
        self.error_kinds: set[str] = set()

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "empty_replies": self.empty,
            "fallback_replies": self.fallback,
            "error_kinds": sorted(self.error_kinds)[:5],
            **latency_summary(self.latencies),
        }


async def _send(
    session: aiohttp.ClientSession,
    url: str,
    payload: dict[str, Any],
    outcome: Outcome,
    fallback_texts: set[str],
    record: bool,
) -> None:
    started = time.perf_counter()
    try:
        async with session.post(url, json=payload) as response:
            body = await response.text()
            elapsed = (time.perf_counter() - started) * 1000
            status = response.status
    except (aiohttp.ClientError, asyncio.TimeoutError) as err:
        if record:
            outcome.requests += 1
            outcome.errors += 1
            outcome.error_kinds.add(type(err).__name__)
        return
    if not record:
        return
    outcome.requests += 1
    outcome.latencies.append(elapsed)
    if status != 200:
        outcome.errors += 1
        outcome.error_kinds.add(f"HTTP {status}")
        return
    try:
        messages = json.loads(body)
    except ValueError:
        outcome.errors += 1
        outcome.error_kinds.add("not JSON")
        return
    if not isinstance(messages, list) or not messages:
        outcome.empty += 1
    elif any(isinstance(m, dict) and m.get("text") in fallback_texts for m in messages):
        outcome.fallback += 1


async def thinking_carers(
    base_url: str, carers: int, settings: SpeedSettings, seed: int = SEED
) -> dict[str, Any]:
    """``carers`` people, each arriving at a random moment in the ramp, then conversing.

    Each carer thinks 1-3 s before every message, waits for the answer, and when a conversation
    ends a new one starts (a new sender id: the next carer takes the place). Only requests sent
    after the ramp (everyone present) count.
    """
    url = base_url.rstrip("/") + "/webhooks/rest/webhook"
    outcome = Outcome()
    fallback_texts = {str(m["text"]) for m in fallback_messages()}
    run = uuid.uuid4().hex[:8]
    started = time.monotonic()
    measure_from = started + settings.ramp_seconds
    end = started + settings.level_seconds
    low, high = settings.think

    async def carer(slot: int, session: aiohttp.ClientSession) -> None:
        rng = random.Random(seed * 100_003 + carers * 1_009 + slot)
        await asyncio.sleep(rng.uniform(0, settings.ramp_seconds))
        conversation = 0
        while time.monotonic() < end:
            sender = f"bench-{run}-{slot}-{conversation}"
            for text in rng.choice(FLOWS):
                await asyncio.sleep(rng.uniform(low, high))
                now = time.monotonic()
                if now >= end:
                    return
                payload = {"sender": sender, "message": text}
                await _send(session, url, payload, outcome, fallback_texts, now >= measure_from)
            conversation += 1

    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(carer(slot, session) for slot in range(carers)))
    measured = max(settings.level_seconds - settings.ramp_seconds, 1e-9)
    return {
        "carers": carers,
        "measured_seconds": round(measured, 1),
        "messages_per_second": round(outcome.requests / measured, 2),
        **outcome.summary(),
    }


async def bare_parse(
    base_url: str, token: str, requests: int, rasa_pid: int | None = None
) -> dict[str, Any]:
    """``/model/parse`` one request at a time: NLU only, no tracker, no actions."""
    url = base_url.rstrip("/") + "/model/parse"
    messages = load_script().MESSAGES
    outcome = Outcome()
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for text in messages[:WARM_UP]:  # the first parses build TensorFlow's graphs
            async with session.post(url, params={"token": token}, json={"text": text}) as reply:
                await reply.read()
        cpu_before = tree_cpu_ms(rasa_pid) if rasa_pid else 0.0
        for number in range(requests):
            started = time.perf_counter()
            async with session.post(
                url, params={"token": token}, json={"text": messages[number % len(messages)]}
            ) as response:
                await response.read()
                outcome.requests += 1
                if response.status != 200:
                    outcome.errors += 1
                    outcome.error_kinds.add(f"HTTP {response.status}")
                    continue
            outcome.latencies.append((time.perf_counter() - started) * 1000)
    summary = outcome.summary()
    if rasa_pid and requests:
        summary["rasa_cpu_ms"] = round((tree_cpu_ms(rasa_pid) - cpu_before) / requests, 1)
    return summary


async def sequential_rest(
    base_url: str, messages: int, rasa_pid: int | Sequence[int], actions_pid: int
) -> dict[str, Any]:
    """The conversations of FLOWS one message at a time: latency and CPU time per message.

    With nobody else talking, wall-clock latency is the floor for a full turn, and the CPU time
    the Rasa process spends per message bounds throughput: one Sanic worker runs on one core,
    so it can never serve more than 1000 / (CPU ms per message) messages a second. Several Rasa
    servers (``rasa_pid`` a list, behind nginx): their CPU is added up.
    """
    rasa_pids = [rasa_pid] if isinstance(rasa_pid, int) else list(rasa_pid)

    def rasa_cpu() -> float:
        return sum(tree_cpu_ms(pid) for pid in rasa_pids)

    url = base_url.rstrip("/") + "/webhooks/rest/webhook"
    outcome = Outcome()
    fallback_texts = {str(m["text"]) for m in fallback_messages()}
    run = uuid.uuid4().hex[:8]
    turns = [
        (f"bench-seq-{run}-{n}", text)
        for n, flow in enumerate(FLOWS * (messages // 10 + 1))
        for text in flow
    ][:messages]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        for text in FLOWS[0][:WARM_UP]:  # the first turns build the policies' graphs
            payload = {"sender": f"bench-warm-up-{run}", "message": text}
            await _send(session, url, payload, outcome, fallback_texts, False)
        rasa_before, actions_before = rasa_cpu(), tree_cpu_ms(actions_pid)
        for sender, text in turns:
            payload = {"sender": sender, "message": text}
            await _send(session, url, payload, outcome, fallback_texts, True)
        rasa_after, actions_after = rasa_cpu(), tree_cpu_ms(actions_pid)
    rasa_cpu = (rasa_after - rasa_before) / max(len(turns), 1)
    actions_cpu = (actions_after - actions_before) / max(len(turns), 1)
    return {
        **outcome.summary(),
        "rasa_cpu_ms": round(rasa_cpu, 1),
        "actions_cpu_ms": round(actions_cpu, 1),
        "single_core_ceiling_mps": round(1000 / rasa_cpu, 1) if rasa_cpu else 0.0,
    }


async def closed_loop(base_url: str, settings: SpeedSettings) -> dict[str, Any]:
    """``scripts/load.py`` with no thinking at a few concurrencies; the best rate counts."""
    runs = []
    for concurrency, turns in settings.closed_loop:
        result = await load_script().run_load(base_url, concurrency, turns, seed=SEED)
        runs.append(
            {
                "concurrency": concurrency,
                "requests": result.requests,
                "seconds": result.seconds,
                "messages_per_second": round(result.requests / result.seconds, 2)
                if result.seconds
                else 0.0,
                "errors": result.errors,
                "missing_replies": result.missing_replies,
                "fallback_replies": result.fallback_replies,
                "p50_ms": result.p50_ms,
                "p95_ms": result.p95_ms,
            }
        )
    clean = [r for r in runs if r["errors"] == 0] or runs
    best = max(clean, key=lambda r: r["messages_per_second"])
    return {"runs": runs, "best_messages_per_second": best["messages_per_second"]}


async def telegram_chats(fake: Any, settings: SpeedSettings, seed: int = SEED) -> dict[str, Any]:
    """Chats through the real bridge: say something, wait for the first reply, think, repeat."""
    outcome = Outcome()
    end = time.monotonic() + settings.telegram_seconds
    low, high = settings.think

    async def chat(number: int) -> None:
        rng = random.Random(seed * 7_919 + number)
        chat_id = 900_000 + number
        while True:
            for text in rng.choice(FLOWS):
                await asyncio.sleep(rng.uniform(low, high))
                if time.monotonic() >= end:
                    return
                before = len(fake.sent(chat_id))
                started = time.perf_counter()
                fake.say(chat_id, text)
                outcome.requests += 1
                try:
                    await fake.wait_sent(chat_id, before + 1, timeout=60)
                except AssertionError:
                    outcome.errors += 1
                    outcome.error_kinds.add("no reply within 60 s")
                    continue
                outcome.latencies.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(chat(n) for n in range(settings.telegram_chats)))
    return {"chats": settings.telegram_chats, **outcome.summary()}


async def _wait_bridge_ready(fake: Any, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while "getUpdates" not in fake.methods():
        if proc.poll() is not None:
            raise RuntimeError(f"Telegram bridge exited with code {proc.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError("Telegram bridge did not start polling")
        await asyncio.sleep(0.2)


def _pid(stack: Stack, name: str) -> int:
    proc = stack.services[name].proc
    if proc is None:
        raise RuntimeError(f"{name} is not running")
    return proc.pid


async def _load_phases(
    stack: Stack, token: str, settings: SpeedSettings, results: dict[str, Any]
) -> None:
    rasa_pid, actions_pid = (_pid(stack, name) for name in ("rasa", "actions"))
    LOGGER.info("bare /model/parse x %d", settings.parse_requests)
    results["parse"] = await bare_parse(stack.rasa_url, token, settings.parse_requests, rasa_pid)
    LOGGER.info("%d REST messages one at a time", settings.sequential_messages)
    results["sequential"] = await sequential_rest(
        stack.rasa_url, settings.sequential_messages, rasa_pid, actions_pid
    )
    results["levels"] = []
    for carers in settings.levels:
        LOGGER.info("%d thinking carers for %.0f s", carers, settings.level_seconds)
        results["levels"].append(await thinking_carers(stack.rasa_url, carers, settings))
    LOGGER.info("closed loop")
    results["closed_loop"] = await closed_loop(stack.rasa_url, settings)


async def _phases(
    stack: Stack, token: str, settings: SpeedSettings, sampler: RssSampler, workdir: Path
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    if settings.telegram_chats <= 0:
        await _load_phases(stack, token, settings, results)
        results["memory"] = sampler.stop()
        return results
    fakes = telegram_fakes()
    fake = fakes.FakeTelegram()
    await fake.start()
    env = child_env(
        {
            "TELEGRAM_BOT_TOKEN": fakes.TOKEN,
            "TELEGRAM_SENDER_SALT": fakes.SALT.decode("utf-8"),
            "TELEGRAM_BASE_URL": fake.base_url,
            "RASA_URL": stack.rasa_url,
            "RASA_AUTH_TOKEN": token,
        }
    )
    log = (workdir / "telegram.log").open("ab")
    bridge = subprocess.Popen(
        [sys.executable, "-m", "bot.telegram", "--log-level", "WARNING"],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        await _wait_bridge_ready(fake, bridge)
        sampler.watch("telegram", bridge.pid)
        await _load_phases(stack, token, settings, results)
        LOGGER.info(
            "%d Telegram chats for %.0f s", settings.telegram_chats, settings.telegram_seconds
        )
        results["telegram"] = await telegram_chats(fake, settings)
        results["memory"] = sampler.stop()
    finally:
        bridge.terminate()
        try:
            bridge.wait(15)
        except subprocess.TimeoutExpired:
            bridge.kill()
            bridge.wait()
        log.close()
        await fake.stop()
    return results


def measure_speed(
    model: Path, workdir: Path, settings: SpeedSettings, stack_class: type[Stack] = Stack
) -> dict[str, Any]:
    """Start the stack, run every phase, stop everything; return speed and memory figures."""
    token = secrets.token_urlsafe(24)
    workdir.mkdir(parents=True, exist_ok=True)
    stack = stack_class.on_free_ports(model, workdir, token)
    LOGGER.info("starting the action server and Rasa with %s", model)
    started = time.perf_counter()
    stack.start()
    startup = time.perf_counter() - started
    sampler = RssSampler()
    try:
        for name in ("rasa", "actions"):
            sampler.watch(name, _pid(stack, name))
        sampler.start()
        results = asyncio.run(_phases(stack, token, settings, sampler, workdir))
    finally:
        stack.stop()
    results["startup_seconds"] = round(startup, 1)
    return results
