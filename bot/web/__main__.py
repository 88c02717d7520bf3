"""`python -m bot.web`: serve the toolkit site and chat widget (see bot/web/server.py)."""

import sys

from bot.web.server import main

sys.exit(main())
