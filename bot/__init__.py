"""Carers' Assistant: everything that is not the action server.

NLU components, the tracker store, channels (Telegram, web), content loading and reports.
Nothing here imports from ``actions/``; the action server imports from here.
"""
