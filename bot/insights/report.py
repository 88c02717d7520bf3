"""Putting the report together: read, count, suppress, draw and write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from bot.content.topics import topic_title, topics
from bot.insights import render
from bot.insights.figures import Figures, compute
from bot.insights.store import read_conversations
from bot.purge import tracker_db_url


@dataclass(frozen=True)
class Report:
    """What was written, and the figures behind it (tests compare them with what was sent)."""

    figures: Figures
    html: Path
    overview: Path
    csvs: list[Path]


def report_topics() -> list[str]:
    """The intents the topics tables list: every named topic in content/topics.yml."""
    return list(topics())


def build_report(out: Path, since: float, until: float, db_url: str | None = None) -> Report:
    """Write ``index.html``, the CSV files and the overview PNG into ``out``.

    ``db_url`` is any SQLAlchemy URL; by default the same database the assistant writes to
    (``CARERS_TRACKER_DB_URL`` or the default SQLite file, see ``bot.purge``).
    """
    conversations = read_conversations(db_url or tracker_db_url(), since, until)
    figures = compute(conversations, since, until, report_topics())
    out.mkdir(parents=True, exist_ok=True)
    data = render.tables(figures, topic_title)
    csvs = render.write_csvs(out, data)
    charts = render.chart_pngs(figures, topic_title)
    overview = out / render.OVERVIEW_PNG
    overview.write_bytes(render.overview_png(figures, topic_title))
    html = out / "index.html"
    generated = datetime.now(tz=timezone.utc)
    html.write_text(render.page(figures, data, charts, generated), encoding="utf-8")
    return Report(figures=figures, html=html, overview=overview, csvs=csvs)
