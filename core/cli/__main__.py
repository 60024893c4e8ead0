"""``python -m core.cli``: the same as the ``dnalens`` command."""

import sys

from .main import main

if __name__ == "__main__":  # not when a spawned helper process imports this module as __mp_main__
    sys.exit(main())
