"""Where conversations are stored, and deleting them: retention purges and one-off erasure.

Conversations about mental health are among the most sensitive data there is, so they are kept
outside the repository, masked before they are written (``bot.tracker_store``), and deleted
when no longer needed:

* ``python -m bot.purge --days N`` (``make purge DAYS=N``) deletes every conversation whose
  latest event is more than N days old;
* ``python -m bot.purge --conversation ID`` and :func:`delete_conversation` delete one
  conversation now (the Telegram bridge's ``/forget``; a carer's erasure request).

This module needs only SQLAlchemy, not Rasa, so a bridge can import it cheaply. Deleted rows are
overwritten on disk (SQLite ``secure_delete``), not merely unlinked.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

DB_URL_ENV = "CARERS_TRACKER_DB_URL"
# Rasa's SQLTrackerStore keeps one row per event in this table.
EVENTS_TABLE = "events"
SECONDS_PER_DAY = 86_400


def default_db_path() -> Path:
    """``$XDG_DATA_HOME/carers-assistant/conversations.db`` (``~/.local/share/…`` by default).

    Outside the repository on purpose: conversation data must never be committed.
    """
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "carers-assistant" / "conversations.db"


def tracker_db_url(configured: str | None = None) -> str:
    """The SQLAlchemy URL of the conversation database.

    ``CARERS_TRACKER_DB_URL`` wins, then a ``url`` given in endpoints.yml, then the default
    SQLite file.
    """
    return os.environ.get(DB_URL_ENV) or configured or f"sqlite:///{default_db_path()}"


def display_url(url: str) -> str:
    """The URL with any password hidden, safe to print or log."""
    return make_url(url).render_as_string(hide_password=True)


def decode_event(data: Any) -> dict[str, Any] | None:
    """One stored event row's JSON as a dict, or None when it is not an event (never raises)."""
    try:
        event = json.loads(data) if isinstance(data, (str, bytes)) else None
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def prepare_sqlite_file(url: str) -> None:
    """Create a SQLite database's folder and an empty file readable by its owner only.

    SQLite would create the file with the process umask (usually world-readable).
    """
    path = sqlite_path(url)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def prepare_database(url: str) -> None:
    """Make sure the database at ``url`` exists before Rasa connects to it.

    SQLite: the private file (:func:`prepare_sqlite_file`). PostgreSQL: ``CREATE DATABASE``
    when it is missing (Rasa's own store would wait for it forever). Several servers may start
    at once, so losing the race to create it is fine.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        prepare_sqlite_file(url)
        return
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return
    server = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    exists = sa.text("SELECT 1 FROM pg_database WHERE datname = :name")
    quoted = server.dialect.identifier_preparer.quote(parsed.database)
    try:
        with server.connect() as connection:
            for attempt in range(3):
                if connection.execute(exists, {"name": parsed.database}).first() is not None:
                    return
                try:
                    connection.exec_driver_sql(f"CREATE DATABASE {quoted}")
                    return
                except (sa.exc.ProgrammingError, sa.exc.OperationalError):
                    # Another server is creating it at this moment: look again.
                    if attempt == 2:
                        raise
                    time.sleep(0.5)
    finally:
        server.dispose()


def harden_engine(engine: Engine) -> Engine:
    """SQLite: overwrite deleted content (``PRAGMA secure_delete``) on every connection, and
    write-ahead logging, so a turn's commit does not wait for a full sync of the file and the
    purge can read while Rasa writes (a crash loses at most the last commits, never the file).
    """
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _secure_delete(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA secure_delete = ON")
            if sqlite_path(str(engine.url)) is not None:
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.close()

        # Connections opened before the listener existed would not have the pragma.
        engine.dispose()
    return engine


def _engine(url: str) -> Engine | None:
    """An engine for an existing database, or None when there is nothing stored yet."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return None
    engine = harden_engine(sa.create_engine(url))
    if not sa.inspect(engine).has_table(EVENTS_TABLE):
        engine.dispose()
        return None
    return engine


def delete_events(engine: Engine, sender_id: str) -> int:
    """Delete every stored event of one conversation through ``engine``; return the count."""
    with engine.begin() as connection:
        result = connection.execute(
            sa.text(f"DELETE FROM {EVENTS_TABLE} WHERE sender_id = :sender_id"),
            {"sender_id": str(sender_id)},
        )
        return int(result.rowcount or 0)


def delete_conversation(sender_id: str, db_url: str | None = None) -> int:
    """Delete every stored event of one conversation; return how many were deleted.

    Safe to call while Rasa runs: the SQL tracker store reads the database on every turn, so
    the next message from this sender starts a fresh conversation.
    """
    engine = _engine(db_url or tracker_db_url())
    if engine is None:
        return 0
    try:
        return delete_events(engine, sender_id)
    finally:
        engine.dispose()


def purge_older_than(
    days: float, db_url: str | None = None, now: float | None = None
) -> tuple[int, int]:
    """Delete conversations whose latest event is older than ``days``; return (conversations,
    events) deleted."""
    if days < 0:
        raise ValueError("days must be zero or more")
    cutoff = (time.time() if now is None else now) - days * SECONDS_PER_DAY
    engine = _engine(db_url or tracker_db_url())
    if engine is None:
        return 0, 0
    stale = sa.text(
        f"SELECT sender_id FROM {EVENTS_TABLE} GROUP BY sender_id "
        "HAVING MAX(COALESCE(timestamp, 0)) < :cutoff"
    )
    try:
        with engine.begin() as connection:
            senders = [row[0] for row in connection.execute(stale, {"cutoff": cutoff})]
            deleted = 0
            for sender_id in senders:
                result = connection.execute(
                    sa.text(f"DELETE FROM {EVENTS_TABLE} WHERE sender_id = :sender_id"),
                    {"sender_id": sender_id},
                )
                deleted += int(result.rowcount or 0)
        if engine.dialect.name == "sqlite" and senders:
            # Give the freed pages back to the file system as well.
            with engine.connect() as connection:
                connection.exec_driver_sql("VACUUM")
        return len(senders), deleted
    finally:
        engine.dispose()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bot.purge",
        description="Delete stored conversations (by age, or one conversation by its id).",
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--days", type=int, help="delete conversations with no activity for more than DAYS days"
    )
    target.add_argument("--conversation", metavar="ID", help="delete this one conversation")
    parser.add_argument(
        "--db-url", help=f"SQLAlchemy URL (default: ${DB_URL_ENV} or {default_db_path()})"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    url = args.db_url or tracker_db_url()
    where = display_url(url)
    if args.conversation is not None:
        count = delete_conversation(args.conversation, url)
        print(f"Deleted {count} events of that conversation from {where}.")
        return 0
    if args.days < 0:
        print("--days must be zero or more", file=sys.stderr)
        return 2
    conversations, events = purge_older_than(args.days, url)
    print(
        f"Deleted {conversations} conversations ({events} events) with no activity "
        f"for more than {args.days} days from {where}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
