"""Faults in cluster mode, with the real parts: nginx, two Rasa servers, PostgreSQL and Redis.

One cluster (``bot.launcher.ClusterStack``, what ``make cluster`` runs) serves the whole module,
on free ports, with a throw-away PostgreSQL database. Its Redis is a private ``redis-server``
started here, so that losing Redis never disturbs anyone else using the shared one. Each fault
happens in the middle of a bounded load through nginx (8 carers x 15 messages).

A missing part skips the module and says which: nginx (scripts/install_nginx.sh), PostgreSQL
(127.0.0.1:5432), or Debian's redis-server.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.channels.replies import fallback_messages, national_helplines_text
from bot.launcher import ClusterStack, free_port

pytestmark = [pytest.mark.stack, pytest.mark.cluster]

LOAD_MESSAGES = (
    "hello",
    "How do I book a visit to see my son?",
    "what rights does the nearest relative have",
    "show me the films",
    "are there support groups for carers like me",
    "what is a tribunal",
    "can I bring my grandchildren when I visit",
    "thank you",
)
CRISIS = "I want to end my life"


class PrivateRedis:
    """A redis-server of our own on a free port, which a test may kill and start again."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server (Debian package) is not installed")
        self.binary = binary
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        log = (self.workdir / "redis.log").open("ab")
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 10
        while (
            subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
            ).stdout.strip()
            != "PONG"
        ):
            if time.monotonic() > deadline:
                raise TimeoutError("the private Redis did not start")
            time.sleep(0.1)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    if shutil.which("redis-cli") is None:
        pytest.skip("redis-cli (Debian package redis-tools) is not installed")
    server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture(scope="module")
def cluster(
    trained_model: Path,
    new_postgres_db: Callable[[], str],
    private_redis: PrivateRedis,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ClusterStack]:
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        pytest.skip("nginx is not installed (scripts/install_nginx.sh)")
    workdir = tmp_path_factory.mktemp("cluster")
    stack = ClusterStack(
        model=trained_model,
        rasa_port=free_port(),
        backend_ports=(free_port(), free_port()),
        actions_port=free_port(),
        web_port=None,
        log_dir=workdir / "logs",
        auth_token=secrets.token_urlsafe(24),
        cors="*",
        tracker_db_url=new_postgres_db(),
        lock_store_url=private_redis.url,
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


# --- a bounded load through nginx, with a hook for the fault ---------------------------------


@dataclass
class LoadResult:
    sent: int = 0
    failed: int = 0  # not HTTP 200 with a JSON list: what a carer would see as broken
    service_problem: int = 0  # the guard's kind failure reply
    failures: list[str] = field(default_factory=list)
    senders: list[str] = field(default_factory=list)


def run_load(
    base_url: str,
    fault: Callable[[], None],
    fault_after: int = 20,
    carers: int = 8,
    turns: int = 15,
) -> LoadResult:
    """``carers`` conversations of ``turns`` messages at once; ``fault()`` runs (in a thread)
    once ``fault_after`` answers have come back. Bounded: carers x turns requests."""
    result = LoadResult(senders=[f"load-{uuid.uuid4().hex[:8]}-{n}" for n in range(carers)])
    problem = fallback_messages()[0]["text"]
    fired = threading.Event()
    faults: list[threading.Thread] = []

    async def carer(session: aiohttp.ClientSession, number: int) -> None:
        sender = result.senders[number]
        for turn in range(turns):
            text = LOAD_MESSAGES[(number + turn) % len(LOAD_MESSAGES)]
            url = f"{base_url}/webhooks/rest/webhook"
            try:
                async with session.post(url, json={"sender": sender, "message": text}) as reply:
                    body = await reply.text()
                    status = reply.status
            except (aiohttp.ClientError, asyncio.TimeoutError) as err:
                status, body = 0, type(err).__name__
            result.sent += 1
            try:
                messages = json.loads(body) if status == 200 else None
            except ValueError:
                messages = None
            if not isinstance(messages, list) or not messages:
                result.failed += 1
                result.failures.append(f"{status}: {body[:200]}")
            elif any(m.get("text") == problem for m in messages):
                result.service_problem += 1
            if result.sent >= fault_after and not fired.is_set():
                fired.set()
                faults.append(threading.Thread(target=fault))
                faults[-1].start()

    async def everyone() -> None:
        timeout = aiohttp.ClientTimeout(total=90)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            await asyncio.gather(*(carer(session, n) for n in range(carers)))

    asyncio.run(everyone())
    for thread in faults:
        thread.join(120)
    assert fired.is_set(), "the load ended before the fault"
    return result


def say(base_url: str, sender: str, text: str) -> tuple[int, Any]:
    """One message through the REST channel: (status, decoded body); HTTP errors returned."""
    request = urllib.request.Request(
        f"{base_url}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": text}).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=90) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", errors="replace")


def texts(body: Any) -> str:
    assert isinstance(body, list), body
    return "\n".join(str(message.get("text", "")) for message in body)


def stored_user_texts(stack: ClusterStack, sender: str) -> list[str]:
    url = f"{stack.rasa_url}/conversations/{sender}/tracker?token={stack.auth_token}"
    with urllib.request.urlopen(url, timeout=60) as response:
        tracker = json.loads(response.read())
    return [event.get("text") for event in tracker["events"] if event["event"] == "user"]


def begin_contacts_form(base_url: str) -> str:
    sender = f"form-{uuid.uuid4().hex[:10]}"
    status, body = say(base_url, sender, "who can I contact near me")
    assert status == 200 and "Where should I look?" in texts(body)
    return sender


def finish_contacts_form(base_url: str, sender: str) -> None:
    status, body = say(base_url, sender, "Leeds")
    assert status == 200
    assert "near Leeds" in texts(body), texts(body)


# --- the faults -------------------------------------------------------------------------------


def test_a_contacts_form_begun_on_one_server_finishes_on_the_other(cluster: ClusterStack) -> None:
    sender = begin_contacts_form(cluster.backend_url("rasa-1"))
    finish_contacts_form(cluster.backend_url("rasa-2"), sender)


def test_the_widgets_socketio_long_polling_works_through_nginx(cluster: ClusterStack) -> None:
    """Long polling needs every request of a session on one server: nginx's ip_hash."""
    import socketio

    async def converse() -> dict[str, Any]:
        client = socketio.AsyncClient(reconnection=False)
        replies: asyncio.Queue = asyncio.Queue()
        confirmed: asyncio.Queue = asyncio.Queue()
        client.on("bot_uttered", replies.put)
        client.on("session_confirm", confirmed.put)
        await client.connect(cluster.rasa_url, transports=["polling"], socketio_path="/socket.io")
        try:
            session_id = uuid.uuid4().hex
            await client.emit("session_request", {"session_id": session_id})
            await asyncio.wait_for(confirmed.get(), 30)
            for _ in range(3):  # several polls in a row, each must reach the same server
                await client.emit("user_uttered", {"message": "hello", "session_id": session_id})
                reply = await asyncio.wait_for(replies.get(), 60)
            return reply
        finally:
            await client.disconnect()

    reply = asyncio.run(converse())
    assert isinstance(reply.get("text"), str) and reply["text"].strip()


def test_killing_a_rasa_server_mid_load_fails_no_request(cluster: ClusterStack) -> None:
    form = begin_contacts_form(cluster.backend_url("rasa-1"))
    victim = cluster.services["rasa-1"]
    pid = victim.pid
    assert pid is not None
    result = run_load(cluster.rasa_url, lambda: os.killpg(pid, signal.SIGKILL))
    try:
        assert victim.proc is not None and victim.proc.poll() == -signal.SIGKILL
        assert result.failed == 0, result.failures
        assert result.sent == 8 * 15
        assert result.service_problem == 0
        # The form begun on the killed server is finished by the other one.
        finish_contacts_form(cluster.rasa_url, form)
        # Every conversation carried on with its state: each message it sent is stored.
        for number, sender in enumerate(result.senders):
            stored = stored_user_texts(cluster, sender)
            sent = {LOAD_MESSAGES[(number + turn) % len(LOAD_MESSAGES)] for turn in range(15)}
            assert sent <= set(stored)
    finally:
        victim.reap()
        victim.start()  # back to two servers for the next tests


def _postgres_cluster_command(port: int) -> list[str] | None:
    """How to restart the PostgreSQL cluster listening on ``port``, if we may."""
    if os.geteuid() != 0 or shutil.which("pg_lsclusters") is None:
        return None
    listing = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout
    for line in listing.splitlines():
        version, name, cluster_port, *_ = line.split()
        if int(cluster_port) == port:
            return ["pg_ctlcluster", "--skip-systemctl-redirect", version, name]
    return None


def test_servers_reconnect_after_a_postgresql_restart_mid_load(
    cluster: ClusterStack, postgres_server: Any
) -> None:
    if postgres_server.host not in ("127.0.0.1", "localhost"):
        pytest.skip("PostgreSQL is not on this machine: it cannot be restarted from here")
    command = _postgres_cluster_command(postgres_server.port or 5432)
    if command is None:
        pytest.skip("restarting PostgreSQL needs root and pg_ctlcluster (postgresql-common)")
    form = begin_contacts_form(cluster.rasa_url)

    def restart() -> None:
        subprocess.run([*command, "restart"], check=True, capture_output=True, timeout=60)

    try:
        result = run_load(cluster.rasa_url, restart)
    finally:  # never leave PostgreSQL down
        subprocess.run([*command, "start"], capture_output=True, timeout=60)
    assert result.failed == 0, result.failures
    assert result.service_problem == 0
    finish_contacts_form(cluster.rasa_url, form)  # state from before the restart
    stored = stored_user_texts(cluster, result.senders[0])
    assert len(stored) >= 15  # turns after the restart were stored


def test_without_redis_carers_get_the_kind_reply_and_crisis_routes(
    cluster: ClusterStack, private_redis: PrivateRedis
) -> None:
    private_redis.kill()
    try:
        sender = f"no-redis-{uuid.uuid4().hex[:8]}"
        status, body = say(cluster.rasa_url, sender, "How do I book a visit to see my son?")
        assert status == 200, body
        reply = texts(body)
        assert fallback_messages()[0]["text"] in reply
        assert national_helplines_text() in reply
        status, body = say(cluster.rasa_url, sender, CRISIS)
        assert status == 200, body
        assert "999" in texts(body) and "116 123" in texts(body)
        assert "Traceback" not in json.dumps(body)
    finally:
        private_redis.start()
    deadline = time.monotonic() + 20
    while True:  # Redis is back: so are normal answers
        status, body = say(cluster.rasa_url, f"redis-back-{uuid.uuid4().hex[:8]}", "hello")
        if status == 200 and fallback_messages()[0]["text"] not in texts(body):
            break
        assert time.monotonic() < deadline, "answers did not come back with Redis"
        time.sleep(0.5)


def test_answers_continue_while_the_action_server_restarts_mid_load(
    cluster: ClusterStack,
) -> None:
    degraded: list[str] = []

    def restart_actions() -> None:
        cluster.stop_actions()
        status, body = say(cluster.rasa_url, f"films-{uuid.uuid4().hex[:8]}", "show me the films")
        degraded.append(texts(body) if status == 200 else f"HTTP {status}")
        cluster.start_actions()

    result = run_load(cluster.rasa_url, restart_actions)
    assert result.failed == 0, result.failures
    assert national_helplines_text() in degraded[0]  # films degrade as they do today
    status, body = say(cluster.rasa_url, f"films-{uuid.uuid4().hex[:8]}", "show me the films")
    assert status == 200 and fallback_messages()[0]["text"] not in texts(body)
