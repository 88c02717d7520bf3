"""Reading a reporting period from the command line: ``90d``, ``12w`` or a date.

Shared by the staff tools that read a window of the tracker store (``make insights``,
``make review``), so ``SINCE=`` means the same in both.
"""

from __future__ import annotations

import argparse
import re
from datetime import datetime, timezone

_AGO_RE = re.compile(r"^(\d+)([dw])$")
SECONDS = {"d": 86_400, "w": 7 * 86_400}


def parse_when(value: str, now: float) -> float:
    """``90d`` / ``12w`` (that long before now) or an ISO date or date-time (UTC if no zone)."""
    value = value.strip()
    match = _AGO_RE.match(value)
    if match:
        return now - int(match.group(1)) * SECONDS[match.group(2)]
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(
            f"{value!r}: use a number of days or weeks (90d, 12w) or a date (2025-01-31)"
        ) from err
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
