"""``python -m bot.insights --since 90d --out reports/`` (``make insights``)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bot.insights.report import build_report
from bot.insights.store import StoreMissing
from bot.period import parse_when
from bot.purge import display_url, tracker_db_url


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bot.insights",
        description="Write the insight report (HTML with charts, and CSV files).",
    )
    parser.add_argument(
        "--since", default="90d", help="start: 90d, 12w or a date like 2025-01-31 (default 90d)"
    )
    parser.add_argument("--until", default=None, help="end (same forms; default: now)")
    parser.add_argument("--out", type=Path, default=Path("reports"), help="folder to write to")
    parser.add_argument(
        "--db-url",
        default=None,
        help="SQLAlchemy URL of the conversation store (default: CARERS_TRACKER_DB_URL or the "
        "assistant's SQLite file)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    now = time.time()
    try:
        since = parse_when(args.since, now)
        until = parse_when(args.until, now) if args.until else now
    except argparse.ArgumentTypeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if until <= since:
        print("error: --until must be after --since", file=sys.stderr)
        return 2
    url = args.db_url or tracker_db_url()
    try:
        report = build_report(args.out, since, until, url)
    except StoreMissing as err:
        print(f"Nothing to report: {err} ({display_url(url)}).", file=sys.stderr)
        return 1
    figures = report.figures
    print(
        f"Wrote {report.html} and {len(report.csvs)} CSV files: "
        f"{figures.conversations.shown} conversations, {figures.messages.shown} messages."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
