"""Charts (matplotlib, Agg backend), the HTML page and the CSV files.

Every number written here comes from a suppressed :class:`~bot.insights.suppress.Cell`; a
hidden count is never drawn (its bar is left out and the chart says so) and is written as its
mark ("<5" or "*") in tables and CSV files. All text from the data (topic titles, film titles,
regions, unanswered questions) is HTML-escaped.
"""

from __future__ import annotations

import base64
import csv
import html
import io
from collections.abc import Callable, Sequence
from datetime import date, datetime, timezone
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from bot.insights.figures import Figures  # noqa: E402
from bot.insights.schema import VOTE_DOWN, VOTE_UP  # noqa: E402
from bot.insights.suppress import HIDDEN, Cell, describe, share  # noqa: E402

# Okabe-Ito colours: distinguishable with the common kinds of colour blindness.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]
UP_COLOUR, DOWN_COLOUR = "#009E73", "#D55E00"
HIDDEN_NOTE = (
    "Counts under 5, or from fewer than 5 conversations, are not drawn "
    "(* or <5 marks a week with a hidden count)."
)
OVERVIEW_PNG = "insights-overview.png"

TopicTitle = Callable[[str], str]


def _day(value: float) -> str:
    return datetime.fromtimestamp(value, tz=timezone.utc).strftime("%d %b %Y")


def _week(value: date) -> str:
    return value.strftime("%d %b")


def _value(cell: Cell) -> float:
    """The height to draw: hidden counts are not drawn."""
    return 0.0 if cell.hidden else float(cell.n)


def _empty(ax: Axes, title: str) -> None:
    ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
    ax.text(0.5, 0.5, "Nothing to show for this period", ha="center", va="center", color="#555")
    ax.set_axis_off()


def _finish(ax: Axes, title: str) -> None:
    ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=8)


def _week_ticks(ax: Axes, weeks: Sequence[date]) -> None:
    step = max(1, -(-len(weeks) // 7))  # at most 7 labels
    positions = list(range(0, len(weeks), step))
    ax.set_xticks(positions)
    ax.set_xticklabels([_week(weeks[i]) for i in positions], fontsize=8)
    ax.set_xlim(-0.6, len(weeks) - 0.4)
    ax.set_xlabel("Week beginning", fontsize=8)


def _marks(ax: Axes, marks: Sequence[tuple[int, str]]) -> None:
    """Write the suppression mark where a weekly figure is hidden, so a gap is not read as 0."""
    for x, mark in marks:
        ax.text(x, 0, mark, ha="center", va="bottom", fontsize=7, color="#555")


# --- the panels (each draws on one Axes, so pages and the overview share them) -------------


def draw_activity(ax: Axes, figures: Figures, _: TopicTitle) -> None:
    title = "Conversations per week, by channel"
    if figures.conversations.n == 0:
        _empty(ax, title)
        return
    x = list(range(len(figures.weeks)))
    bottom = [0.0] * len(x)
    for colour, channel in zip(PALETTE, figures.channels, strict=False):
        heights = [_value(figures.conversations_by_week[(w, channel)]) for w in figures.weeks]
        ax.bar(x, heights, bottom=bottom, color=colour, label=channel)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    hidden = [
        (i, HIDDEN)
        for i, w in enumerate(figures.weeks)
        if any(figures.conversations_by_week[(w, c)].hidden for c in figures.channels)
    ]
    for x, _ in hidden:
        ax.text(x, bottom[x], HIDDEN, ha="center", va="bottom", fontsize=8, color="#555")
    _week_ticks(ax, figures.weeks)
    ax.set_ylabel("Conversations", fontsize=8)
    ax.legend(fontsize=8, frameon=False)
    _finish(ax, title)


def draw_topics(ax: Axes, figures: Figures, topic_title: TopicTitle) -> None:
    title = "What carers asked about (questions in the period)"
    shown = [(t, c) for t, c in figures.topic_totals.items() if not c.hidden and c.n > 0]
    if not shown:
        _empty(ax, title)
        return
    shown.sort(key=lambda item: item[1].n)
    ax.barh([topic_title(t) for t, _ in shown], [c.n for _, c in shown], color=PALETTE[0])
    ax.set_xlabel("Questions", fontsize=8)
    _finish(ax, title)


def draw_fallback(ax: Axes, figures: Figures, _: TopicTitle) -> None:
    title = "Messages not understood, % per week"
    points, marks = [], []
    for i, week in enumerate(figures.weeks):
        part, whole = figures.weekly_not_understood[week], figures.weekly_messages[week]
        if share(part, whole):
            points.append((i, 100 * part.n / whole.n))
        elif part.hidden or whole.hidden:
            marks.append((i, part.mark or whole.mark or HIDDEN))
    if not points:
        _empty(ax, title)
        return
    ax.bar([p[0] for p in points], [p[1] for p in points], color=PALETTE[1])
    _marks(ax, marks)
    _week_ticks(ax, figures.weeks)
    ax.set_ylabel("% of messages", fontsize=8)
    _finish(ax, title)


def draw_votes(ax: Axes, figures: Figures, topic_title: TopicTitle) -> None:
    title = "Was this helpful? Votes per topic"
    rows = [
        (topic, pair)
        for topic, pair in figures.votes.items()
        if any(not c.hidden and c.n > 0 for c in pair.values())
    ]
    if not rows:
        _empty(ax, title)
        return
    rows.sort(key=lambda row: sum(_value(c) for c in row[1].values()))
    y = list(range(len(rows)))
    up = [_value(pair[VOTE_UP]) for _, pair in rows]
    down = [_value(pair[VOTE_DOWN]) for _, pair in rows]
    ax.barh([i + 0.2 for i in y], up, height=0.4, color=UP_COLOUR, label="Yes")
    ax.barh([i - 0.2 for i in y], down, height=0.4, color=DOWN_COLOUR, label="No")
    ax.set_yticks(y)
    ax.set_yticklabels([topic_title(topic) for topic, _ in rows])
    ax.set_xlabel("Votes", fontsize=8)
    ax.legend(fontsize=8, frameon=False)
    _finish(ax, title)


def draw_regions(ax: Axes, figures: Figures, _: TopicTitle) -> None:
    title = "Local contacts requested, by region"
    shown = sorted(
        ((r, c) for r, c in figures.regions.items() if not c.hidden and c.n > 0),
        key=lambda item: item[1].n,
    )
    if not shown:
        _empty(ax, title)
        return
    ax.barh([r for r, _ in shown], [c.n for _, c in shown], color=PALETTE[2])
    ax.set_xlabel("Requests", fontsize=8)
    _finish(ax, title)


def draw_films(ax: Axes, figures: Figures, topic_title: TopicTitle) -> None:
    title = "Films: offered with an answer (by topic), and the film list opened"
    bars = sorted(
        ((topic_title(t), c) for t, c in figures.film_offers.items()),
        key=lambda item: item[1].n,
    )
    bars.append(("Film list opened", figures.film_lists))  # drawn on top
    shown = [(label, c) for label, c in bars if not c.hidden and c.n > 0]
    if not shown:
        _empty(ax, title)
        return
    labels = [label if len(label) <= 38 else label[:36] + "…" for label, _ in shown]
    colours = [PALETTE[3] if label == "Film list opened" else PALETTE[4] for label, _ in shown]
    ax.barh(labels, [c.n for _, c in shown], color=colours)
    ax.set_xlabel("Times", fontsize=8)
    _finish(ax, title)


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _panels() -> list[tuple[str, Callable[..., None]]]:
    return [
        ("activity", draw_activity),
        ("topics", draw_topics),
        ("fallback", draw_fallback),
        ("votes", draw_votes),
        ("regions", draw_regions),
        ("films", draw_films),
    ]


def chart_pngs(figures: Figures, topic_title: TopicTitle) -> dict[str, bytes]:
    """One PNG per panel, for the HTML page."""
    charts = {}
    for name, draw in _panels():
        fig, ax = plt.subplots(figsize=(7.5, 3.6))
        draw(ax, figures, topic_title)
        fig.text(0.01, -0.02, HIDDEN_NOTE, fontsize=7, color="#555")
        charts[name] = _png(fig)
    return charts


def overview_png(figures: Figures, topic_title: TopicTitle) -> bytes:
    """All panels on one picture (the README shows one made from synthetic data)."""
    fig, axes = plt.subplots(3, 2, figsize=(14, 12))
    for ax, (_, draw) in zip(axes.flat, _panels(), strict=True):
        draw(ax, figures, topic_title)
    fig.suptitle(
        f"Carers' Assistant insight report: {_day(figures.since)} to {_day(figures.until)}",
        fontsize=14,
        fontweight="bold",
        x=0.01,
        ha="left",
    )
    fig.text(0.01, 0.005, HIDDEN_NOTE, fontsize=9, color="#555")
    fig.tight_layout(rect=(0, 0.02, 1, 0.97))
    return _png(fig)


# --- tables (shared by the CSV files and the HTML page) --------------------------------------

Table = tuple[list[str], list[list[object]]]


def tables(figures: Figures, topic_title: TopicTitle) -> dict[str, Table]:
    """Every CSV file: name -> (header, rows); values already suppressed."""
    weeks = [w.isoformat() for w in figures.weeks]
    summary_rows: list[list[object]] = [
        ["Period start (UTC)", datetime.fromtimestamp(figures.since, tz=timezone.utc).isoformat()],
        ["Period end (UTC)", datetime.fromtimestamp(figures.until, tz=timezone.utc).isoformat()],
        ["Conversations", figures.conversations.shown],
        ["Messages from carers", figures.messages.shown],
        ["Messages not understood", figures.not_understood.shown],
        ["Messages not understood (%)", share(figures.not_understood, figures.messages)],
        ["Conversations that ended in fallback", figures.ended_in_fallback.shown],
        [
            "Conversations that ended in fallback (%)",
            share(figures.ended_in_fallback, figures.conversations),
        ],
        ["Crisis responses", figures.crisis_responses.shown],
        *[
            [f"Messages at risk level: {level}", figures.risk_levels[level].shown]
            for level in ("acute", "concern", "none")
            if level in figures.risk_levels
        ],
        ["Film list opened", figures.film_lists.shown],
        ["Helpfulness votes: yes", figures.vote_totals[VOTE_UP].shown],
        ["Helpfulness votes: no", figures.vote_totals[VOTE_DOWN].shown],
    ]
    activity = [
        [
            week,
            channel,
            figures.conversations_by_week[(w, channel)].shown,
            figures.messages_by_week[(w, channel)].shown,
        ]
        for week, w in zip(weeks, figures.weeks, strict=True)
        for channel in figures.channels
    ]
    fallback = [
        [
            week,
            figures.weekly_messages[w].shown,
            figures.weekly_not_understood[w].shown,
            share(figures.weekly_not_understood[w], figures.weekly_messages[w]),
        ]
        for week, w in zip(weeks, figures.weeks, strict=True)
    ]
    topics = [[topic_title(t), t, figures.topic_totals[t].shown] for t in figures.topics]
    topics_by_week = [
        [week, topic_title(t), figures.topics_by_week[(t, w)].shown]
        for week, w in zip(weeks, figures.weeks, strict=True)
        for t in figures.topics
    ]
    unanswered = [[q.text, q.times, q.conversations] for q in figures.unanswered]
    films = [[topic_title(t), t, c.shown] for t, c in sorted(figures.film_offers.items())]
    regions = [[r, c.shown] for r, c in sorted(figures.regions.items())]
    votes = [
        [
            topic_title(topic),
            topic,
            pair[VOTE_UP].shown,
            pair[VOTE_DOWN].shown,
            share(pair[VOTE_UP], _sum(pair[VOTE_UP], pair[VOTE_DOWN])),
        ]
        for topic, pair in sorted(figures.votes.items())
    ]
    return {
        "summary": (["figure", "value"], summary_rows),
        "activity_by_week": (
            ["week_beginning", "channel", "conversations", "messages"],
            activity,
        ),
        "fallback_by_week": (
            ["week_beginning", "messages", "not_understood", "not_understood_percent"],
            fallback,
        ),
        "topics": (["topic", "intent", "questions"], topics),
        "topics_by_week": (["week_beginning", "topic", "questions"], topics_by_week),
        "unanswered_questions": (["question", "times_asked", "conversations"], unanswered),
        "films_offered": (["topic", "intent", "times_offered_with_the_answer"], films),
        "contacts_by_region": (["region", "requests"], regions),
        "helpfulness_by_topic": (
            ["topic", "intent", "helpful", "not_helpful", "helpful_percent"],
            votes,
        ),
    }


def _sum(*cells: Cell) -> Cell:
    """A total of cells for a percentage, hidden when any part is (so no share gives it away)."""
    total = Cell(n=sum(c.n for c in cells))
    for cell in cells:
        total.people |= cell.people
    if any(c.hidden for c in cells):
        total.mark = HIDDEN
    return total


def write_csvs(out: Path, data: dict[str, Table]) -> list[Path]:
    paths = []
    for name, (header, rows) in data.items():
        path = out / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        paths.append(path)
    return paths


# --- the HTML page --------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;
color:#1b1b1b;background:#fafafa;line-height:1.45}
main{max-width:62rem;margin:0 auto;padding:1.5rem}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.2rem;margin-top:2rem;border-top:1px solid #ddd;
padding-top:1rem}.muted{color:#555}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));gap:.75rem;
margin:1rem 0}.tile{background:#fff;border:1px solid #ddd;border-radius:.5rem;padding:.75rem}
.tile b{display:block;font-size:1.5rem}
table{border-collapse:collapse;background:#fff;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.3rem .6rem;text-align:left}td.n{text-align:right}
img{max-width:100%;height:auto;background:#fff;border:1px solid #ddd}
details{margin:.5rem 0}
"""


def _cell_html(value: object) -> str:
    numeric = isinstance(value, int) or value in ("<5", "*") or str(value).endswith("%")
    klass = ' class="n"' if numeric else ""
    return f"<td{klass}>{html.escape(str(value))}</td>"


def _table_html(header: Sequence[str], rows: Sequence[Sequence[object]], caption: str) -> str:
    titles = (h.replace("_", " ").capitalize() for h in header)
    head = "".join(f'<th scope="col">{html.escape(t)}</th>' for t in titles)
    body = "".join("<tr>" + "".join(_cell_html(v) for v in row) + "</tr>" for row in rows)
    if not rows:
        body = f'<tr><td colspan="{len(header)}">None in this period</td></tr>'
    return (
        f"<table><caption class='muted'>{html.escape(caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def page(
    figures: Figures,
    data: dict[str, Table],
    charts: dict[str, bytes],
    generated: datetime,
) -> str:
    """The report as one self-contained HTML page (charts embedded as data URIs)."""
    summary = dict((str(k), v) for k, v in data["summary"][1])

    def tile(label: str, key: str, extra: str = "") -> str:
        value = html.escape(str(summary[key]))
        note = f"<span class='muted'>{html.escape(extra)}</span>" if extra else ""
        return f"<div class='tile'><b>{value}</b>{html.escape(label)} {note}</div>"

    not_understood_pct = summary["Messages not understood (%)"]
    ended_pct = summary["Conversations that ended in fallback (%)"]
    tiles = "".join(
        [
            tile("conversations", "Conversations"),
            tile("messages from carers", "Messages from carers"),
            tile(
                "messages not understood",
                "Messages not understood",
                f"({not_understood_pct})" if not_understood_pct else "",
            ),
            tile(
                "conversations ended in fallback",
                "Conversations that ended in fallback",
                f"({ended_pct})" if ended_pct else "",
            ),
            tile("crisis responses", "Crisis responses"),
            tile("times the film list was opened", "Film list opened"),
        ]
    )

    def section(title: str, intro: str, chart: str | None, tables_: list[tuple[str, str]]) -> str:
        parts = [f"<h2>{html.escape(title)}</h2>", f"<p>{html.escape(intro)}</p>"]
        if chart:
            parts.append(
                _img(charts[chart], f"Chart: {title}. The same figures are in the table below.")
            )
        for name, caption in tables_:
            header, rows = data[name]
            table = _table_html(header, rows, f"{caption} ({name}.csv)")
            if len(rows) > 30:
                summary_ = f"<summary>Show the table ({len(rows)} rows)</summary>"
                table = f"<details>{summary_}{table}</details>"
            parts.append(table)
        return "\n".join(parts)

    hidden = figures.unanswered_hidden
    sections = [
        section(
            "Conversations and messages",
            "Conversations start in the week and on the channel of their first message. "
            "Messages are everything carers sent, typed or tapped.",
            "activity",
            [("activity_by_week", "Per week and channel")],
        ),
        section(
            "What carers asked about",
            "Each question counted once, by the topic the assistant recognised.",
            "topics",
            [
                ("topics", "Questions per topic in the period"),
                ("topics_by_week", "Questions per topic and week"),
            ],
        ),
        section(
            "What the assistant could not answer",
            "A message is not understood when the assistant could not tell what it was about "
            "(the fallback), or gave up after asking twice. The questions listed were typed in at "
            f"least 5 different conversations, with personal details masked; {hidden} other "
            "questions were asked in fewer conversations and are not shown.",
            "fallback",
            [
                ("fallback_by_week", "Messages not understood per week"),
                ("unanswered_questions", "Most common questions the assistant could not answer"),
            ],
        ),
        section(
            "Was this helpful?",
            "After some answers the assistant asks “Was this helpful?” (at most once in any "
            "three answers, never after a crisis or when someone is upset). Carers answer "
            "with 👍 or 👎, or ignore it.",
            "votes",
            [("helpfulness_by_topic", "Votes per topic")],
        ),
        section(
            "Local contacts",
            "Requests for local services and carers' contacts, by the region looked in. "
            "“Not recognised” means the place could not be found and the national helplines "
            "were given.",
            "regions",
            [("contacts_by_region", "Requests by region")],
        ),
        section(
            "Films",
            "How often an answer offered the films (its button), by topic, and how often the "
            "list of films was opened. "
            "Whether a film was then watched is not known: film links open in the browser "
            "without telling the assistant.",
            "films",
            [("films_offered", "Films offered with an answer, by topic")],
        ),
    ]
    period = f"{_day(figures.since)} to {_day(figures.until)}"
    made = generated.strftime("%d %b %Y %H:%M")
    return f"""<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Carers' Assistant insight report, {html.escape(period)}</title>
<style>{_STYLE}</style>
</head>
<body>
<main>
<h1>Carers' Assistant: insight report</h1>
<p class="muted">{html.escape(period)} (UTC). Made {html.escape(made)} UTC from the
conversation store. No sender ids, names or message texts are included, except
questions the assistant could not answer that were asked in 5 or more conversations (with
personal details masked).</p>
<div class="tiles">{tiles}</div>
<p><b>Crisis responses</b> counts how often the assistant gave the crisis help (999, NHS 111,
Samaritans); it never shows what was said.</p>
{"".join(sections)}
<h2>How to read this report</h2>
<p>{html.escape(describe())}</p>
<p>Weeks run Monday to Sunday (UTC). A conversation ends after 12 hours without a message.
Percentages are shown only when both of their numbers are shown. The CSV files next to this page
hold the same figures.</p>
</main>
</body>
</html>
"""
