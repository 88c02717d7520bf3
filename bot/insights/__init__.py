"""The insight report for commissioners and services (issue 8).

``python -m bot.insights --since 90d --out reports/`` reads the conversation store and writes
``reports/index.html`` (charts embedded) and CSV files: what carers ask about and when, what the
assistant could not answer, crisis responses (a count, never text), films, local contacts by
region and helpfulness votes. Small numbers are suppressed (``bot.insights.suppress``) and
nothing identifying is written; see docs/insights.md.

Modules: ``schema`` (the event names the report counts; the actions import them), ``store``
(reading and anonymising conversations), ``suppress``, ``figures`` (the counting), ``render``
(charts, HTML, CSV), ``report`` (putting it together) and ``__main__`` (the command).
This package imports nothing heavy at import time, so the actions can use ``schema``.
"""
