"""``python -m core.cli``: the same as the ``dnalens`` command."""

import sys

from .main import main

sys.exit(main())
