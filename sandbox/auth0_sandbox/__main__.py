"""``python -m auth0_sandbox`` = ``tap-auth0-sandbox``."""

import sys

from .cli import main

sys.exit(main())
