"""Shared fixtures: the trained model and the real running stack.

Tests that need servers use `rasa_stack`: the real action server and the real Rasa server
with the model `make train` produced, on free ports, with a throw-away tracker database and a
random API token — started once per test session by `bot.launcher.Stack`, the same code
`make run` uses.

Cluster parts are real too: `postgres_db` is a throw-away database on the PostgreSQL server of
cluster mode's default URL, `redis_url` that Redis server; when one is not reachable the test
is skipped and says which.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.cluster import DEFAULT_LOCK_STORE_URL, DEFAULT_TRACKER_DB_URL
from bot.launcher import DEFAULT_MODEL, Stack

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model `make train` wrote; tests never train one of their own."""
    model = Path(os.environ.get("CARERS_MODEL", DEFAULT_MODEL))
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `make train` first (make test does)")
    return model


@pytest.fixture(scope="session")
def rasa_stack(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Real action server + real Rasa (REST and socketio) on free ports."""
    workdir = tmp_path_factory.mktemp("stack")
    stack = Stack.on_free_ports(trained_model, workdir)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def post_json(url: str, payload: dict[str, Any], timeout: float = 60.0) -> tuple[int, Any]:
    """POST JSON and return (status, decoded body) without raising on HTTP errors."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read().decode("utf-8")
            return response.status, json.loads(body) if body else None
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", errors="replace")


@pytest.fixture
def say(rasa_stack: Stack):
    """Send one message through the real REST channel; returns the list of bot messages."""

    def _say(message: str, sender: str) -> list[dict[str, Any]]:
        status, body = post_json(
            f"{rasa_stack.rasa_url}/webhooks/rest/webhook",
            {"sender": sender, "message": message},
        )
        assert status == 200, f"REST channel answered {status}: {body}"
        assert isinstance(body, list)
        return body

    return _say


def _postgres_server_url() -> Any:
    from sqlalchemy.engine import make_url

    return make_url(DEFAULT_TRACKER_DB_URL).set(database="postgres")


@pytest.fixture(scope="session")
def postgres_server() -> Any:
    """The PostgreSQL server cluster mode uses by default, or a skip naming it."""
    import sqlalchemy as sa

    url = _postgres_server_url()
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as err:
        pytest.skip(f"PostgreSQL is not reachable at {url.host}:{url.port} ({type(err).__name__})")
    finally:
        engine.dispose()
    return url


def _drop_database(server_url: Any, name: str) -> None:
    """Drop a test database, closing whatever is still connected to it."""
    import sqlalchemy as sa

    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                ),
                {"n": name},
            )
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def new_postgres_db(postgres_server: Any) -> Iterator[Callable[[], str]]:
    """Call it for the URL of a database that does not exist yet; all are dropped at the end."""
    names: list[str] = []

    def new() -> str:
        names.append(f"carers_test_{uuid.uuid4().hex[:10]}")
        return postgres_server.set(database=names[-1]).render_as_string(hide_password=False)

    try:
        yield new
    finally:
        for name in names:
            _drop_database(postgres_server, name)


@pytest.fixture
def postgres_db(new_postgres_db: Callable[[], str]) -> str:
    """The URL of a database that does not exist yet (dropped at the end of the session)."""
    return new_postgres_db()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis server cluster mode uses by default, or a skip naming it."""
    import redis

    client = redis.Redis.from_url(DEFAULT_LOCK_STORE_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as err:
        pytest.skip(f"Redis is not reachable at {DEFAULT_LOCK_STORE_URL} ({type(err).__name__})")
    finally:
        client.close()
    return DEFAULT_LOCK_STORE_URL
