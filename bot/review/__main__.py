"""``python -m bot.review --since 30d`` (``make review``; ``ARGS=--list`` or ``ARGS=--dry-run``)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bot.content import REPO_ROOT
from bot.period import parse_when
from bot.purge import display_url, tracker_db_url
from bot.review.groups import group_items
from bot.review.labels import assignable_labels, load_index
from bot.review.queue import DEFAULT_LOW_CONFIDENCE, StoreMissing, read_queue
from bot.review.save import (
    needs_answer_texts,
    save_needs_answer,
    save_reviewed,
)
from bot.review.session import Reviewer, describe_group, summary

DEFAULT_REVIEWED = REPO_ROOT / "data" / "nlu" / "reviewed.yml"
DEFAULT_NEEDS_ANSWER = REPO_ROOT / "data" / "review" / "needs_answer.yml"
DEFAULT_NLU = REPO_ROOT / "data" / "nlu"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bot.review",
        description="Review what the assistant could not answer and turn it into examples.",
    )
    parser.add_argument("--since", default="30d", help="start: 30d, 4w or 2025-01-31 (default 30d)")
    parser.add_argument("--until", default=None, help="end (same forms; default: now)")
    parser.add_argument(
        "--db-url",
        default=None,
        help="SQLAlchemy URL of the conversation store (default: CARERS_TRACKER_DB_URL or the "
        "assistant's SQLite file)",
    )
    parser.add_argument(
        "--low-confidence",
        type=float,
        default=DEFAULT_LOW_CONFIDENCE,
        help="queue answers whose intent confidence is below this "
        f"(default {DEFAULT_LOW_CONFIDENCE})",
    )
    parser.add_argument("--list", action="store_true", help="print the queue and ask nothing")
    parser.add_argument("--dry-run", action="store_true", help="ask everything, save nothing")
    parser.add_argument("--reviewed", type=Path, default=DEFAULT_REVIEWED, help=argparse.SUPPRESS)
    parser.add_argument(
        "--needs-answer", type=Path, default=DEFAULT_NEEDS_ANSWER, help=argparse.SUPPRESS
    )
    parser.add_argument("--nlu-data", type=Path, default=DEFAULT_NLU, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _shown(path: Path) -> str:
    """A path relative to the repository when it is inside it."""
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    now = time.time()
    try:
        since = parse_when(args.since, now)
        until = parse_when(args.until, now) if args.until else now
    except argparse.ArgumentTypeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    url = args.db_url or tracker_db_url()
    index = load_index([args.nlu_data, args.reviewed])
    known = set(index.examples) | needs_answer_texts(args.needs_answer)
    try:
        items = read_queue(url, since, until, args.low_confidence, known)
    except StoreMissing as err:
        print(f"Nothing to review: {err} ({display_url(url)}).", file=sys.stderr)
        return 1
    period = f"since {args.since}" + (f" until {args.until}" if args.until else "")
    if not items:
        print(f"Nothing to review {period} in {display_url(url)}.")
        return 0
    print(f"Grouping {len(items)} messages…", file=sys.stderr, flush=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from bot.nlu.encoder import encoder  # TensorFlow: loaded only when there is work

    groups = group_items(items, encoder().encode)
    print(
        f"Review queue {period}: {len(items)} messages in {len(groups)} groups "
        f"({display_url(url)}). Texts are shown masked, as stored."
    )
    if args.list:
        for number, group in enumerate(groups, 1):
            print("")
            for line in describe_group(group, number, len(groups)):
                print(line)
        return 0
    reviewer = Reviewer(groups, assignable_labels(), index, input, print)
    try:
        decisions = reviewer.run()
    except KeyboardInterrupt:
        print("\nStopped: nothing was saved.")
        return 130
    gains = save_reviewed(args.reviewed, decisions.examples, write=not args.dry_run)
    noted = len(decisions.needs_answer)
    if not args.dry_run:
        save_needs_answer(args.needs_answer, decisions.needs_answer)
    totals = Counter(index.examples.values())
    for line in summary(
        decisions,
        gains,
        noted,
        totals,
        _shown(args.reviewed),
        _shown(args.needs_answer),
        args.dry_run,
    ):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
