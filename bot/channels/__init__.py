"""Input channels that clean every message and never leave a carer without an answer.

``bot.channels.rest.SafeRestInput`` and ``bot.channels.socketio.SafeSocketIOInput`` are Rasa's
REST and socketio channels (same names, URLs and payloads) with ``bot.channels.guard`` in front
of Rasa; ``bot.channels.sanitise`` holds the pure cleaning and sorting rules. Set them in
``credentials.yml`` by class path.
"""
