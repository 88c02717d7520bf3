"""Two Rasa servers behind nginx (``make cluster``), measured with the speed section's client.

In the same run as the one-server speed section and with the same functions, the cluster of
``bot.launcher.ClusterStack`` is started on free ports with a throw-away PostgreSQL database
and the configured Redis, then measured: the bare ``/model/parse`` floor on one of its servers,
the Rasa CPU per REST message (both servers added up), the most thinking carers of the speed
section, and the closed loop, all through nginx. When nginx, PostgreSQL or Redis is missing the
section records why and is skipped, so ``make bench`` still runs on a laptop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.latency import (
    SpeedSettings,
    bare_parse,
    closed_loop,
    sequential_rest,
    thinking_carers,
)
from bot.cluster import DEFAULT_LOCK_STORE_URL, DEFAULT_TRACKER_DB_URL, ClusterPartMissing
from bot.launcher import ClusterStack, free_port
from bot.lock_store import LOCK_STORE_URL_ENV
from bot.purge import DB_URL_ENV
from bot.supervise import ChildFailed

LOGGER = logging.getLogger("bench.cluster")


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A fresh PostgreSQL database on the configured server; dropped afterwards."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    configured = make_url(os.environ.get(DB_URL_ENV) or DEFAULT_TRACKER_DB_URL)
    name = f"carers_bench_{uuid.uuid4().hex[:10]}"
    try:
        yield configured.set(database=name).render_as_string(hide_password=False)
    finally:
        engine = sa.create_engine(configured.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name"
                    ),
                    {"name": name},
                )
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        except sa.exc.OperationalError:
            LOGGER.warning("could not drop the benchmark database %s", name)
        finally:
            engine.dispose()


async def _phases(stack: ClusterStack, token: str, settings: SpeedSettings) -> dict[str, Any]:
    pids = [stack.services[name].pid for name in stack.rasa_servers()]
    actions_pid = stack.services["actions"].pid
    if None in pids or actions_pid is None:
        raise RuntimeError("a cluster service is not running")
    first = next(iter(stack.rasa_servers()))
    results: dict[str, Any] = {"servers": len(pids)}
    LOGGER.info("cluster: bare /model/parse x %d on %s", settings.parse_requests, first)
    results["parse"] = await bare_parse(
        stack.backend_url(first), token, settings.parse_requests, pids[0]
    )
    LOGGER.info("cluster: %d REST messages one at a time", settings.sequential_messages)
    results["sequential"] = await sequential_rest(
        stack.rasa_url, settings.sequential_messages, [pid for pid in pids if pid], actions_pid
    )
    carers = max(settings.levels)
    LOGGER.info("cluster: %d thinking carers for %.0f s", carers, settings.level_seconds)
    results["levels"] = [await thinking_carers(stack.rasa_url, carers, settings)]
    LOGGER.info("cluster: closed loop")
    results["closed_loop"] = await closed_loop(stack.rasa_url, settings)
    return results


def measure_cluster(model: Path, workdir: Path, settings: SpeedSettings) -> dict[str, Any]:
    """Start the cluster, run the phases, stop it; ``{"skipped": why}`` when a part is missing."""
    token = secrets.token_urlsafe(24)
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        with throwaway_database() as database:
            stack = ClusterStack(
                model=model,
                rasa_port=free_port(),
                backend_ports=(free_port(), free_port()),
                actions_port=free_port(),
                web_port=None,
                log_dir=workdir / "logs",
                auth_token=token,
                cors="*",
                tracker_db_url=database,
                lock_store_url=os.environ.get(LOCK_STORE_URL_ENV) or DEFAULT_LOCK_STORE_URL,
            )
            LOGGER.info("starting nginx, two Rasa servers and the action server")
            started = time.perf_counter()
            stack.start()
            try:
                results = asyncio.run(_phases(stack, token, settings))
            finally:
                stack.stop()
    except (ClusterPartMissing, ChildFailed) as err:
        LOGGER.warning("cluster section skipped: %s", err)
        return {"skipped": str(err)}
    results["startup_seconds"] = round(time.perf_counter() - started, 1)
    return results
