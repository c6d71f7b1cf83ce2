"""``python -m tap_auth0.sandbox`` = ``tap-auth0-sandbox``."""

import sys

from .cli import main

sys.exit(main())
