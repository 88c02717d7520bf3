"""``python -m bot.shell --url http://localhost:5005 [--explain]``."""

import sys

from bot.shell.session import main

sys.exit(main())
