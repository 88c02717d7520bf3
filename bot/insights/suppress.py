"""Small-number suppression: no figure in the report may point at one carer.

Secure services are small and their carers few. "One carer asked about the Mental Health Act
tribunal in week 12" can identify someone, so every count in the report is a :class:`Cell`
that remembers which conversations make it up, and is shown only when both

* the count is at least ``THRESHOLD`` (5), and
* at least ``THRESHOLD`` different conversations contributed to it

(so one person asking the same thing six times is not published either). Otherwise it is
shown as ``"<5"`` (a count from 1 to 4) or ``"*"`` (5 or more, from fewer than 5
conversations). Zero is shown as 0: it identifies no one.

Secondary suppression: where the report publishes a total (a headline figure, a topic's total)
and exactly one of the counts adding up to it is hidden, that count could be worked out by
subtraction, so the smallest other non-zero count in the group is hidden too (``"*"``),
repeating until no group has a single hidden count.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

THRESHOLD = 5
FEWER = "<5"
HIDDEN = "*"

Shown = int | str


@dataclass
class Cell:
    """A count plus the (anonymous) conversations that make it up."""

    n: int = 0
    people: set[int] = field(default_factory=set)
    mark: str | None = None  # FEWER or HIDDEN once suppressed

    def add(self, person: int, amount: int = 1) -> None:
        self.n += amount
        self.people.add(person)

    @property
    def hidden(self) -> bool:
        return self.mark is not None

    @property
    def shown(self) -> Shown:
        """What the report prints: the count, or its suppression mark."""
        return self.mark if self.mark is not None else self.n


def primary(cells: Iterable[Cell]) -> None:
    """Mark every cell under the threshold (count or conversations)."""
    for cell in cells:
        if cell.n == 0:
            cell.mark = None
        elif cell.n < THRESHOLD:
            cell.mark = FEWER
        elif len(cell.people) < THRESHOLD:
            cell.mark = HIDDEN


@dataclass
class Group:
    """A published total and the counts that add up to it."""

    total: Cell
    parts: Sequence[Cell]


def secondary(groups: Iterable[Group]) -> None:
    """Hide one more count wherever a single hidden count could be found by subtraction."""
    groups = list(groups)
    changed = True
    while changed:
        changed = False
        for group in groups:
            if group.total.hidden:
                continue  # the total itself is not published, so nothing can be subtracted
            hidden = [cell for cell in group.parts if cell.hidden and cell.n > 0]
            if len(hidden) != 1:
                continue
            candidates = [cell for cell in group.parts if not cell.hidden and cell.n > 0]
            if candidates:
                min(candidates, key=lambda cell: cell.n).mark = HIDDEN
                changed = True


def share(part: Cell, whole: Cell) -> str:
    """``part`` as a percentage of ``whole``, or "" when either is hidden or whole is 0."""
    if part.hidden or whole.hidden or whole.n == 0:
        return ""
    return f"{100 * part.n / whole.n:.1f}%"


def describe() -> str:
    """The rule in one sentence, for the report's notes (docs/insights.md explains it)."""
    return (
        f"A count is shown only when it is at least {THRESHOLD} and comes from at least "
        f"{THRESHOLD} different conversations. “{FEWER}” means 1 to {THRESHOLD - 1}; “{HIDDEN}” "
        f"means hidden because fewer than {THRESHOLD} conversations make it up, or because it "
        "could otherwise be worked out by subtracting from a total. Questions the assistant "
        f"could not answer are listed only when {THRESHOLD} or more different conversations "
        "asked them."
    )
