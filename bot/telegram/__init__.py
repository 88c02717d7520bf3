"""The Telegram bridge: a python-telegram-bot v22 process that forwards to Rasa's REST channel.

Why not Rasa's built-in Telegram channel: it is webhook-only, never checks Telegram's secret
token, never answers button taps, has no formatting mode and does not split long messages
(see docs/telegram.md). Run it with ``make telegram`` (``python -m bot.telegram``).
"""
