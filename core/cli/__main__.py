"""``python -m core.cli``: the same as the ``dnalens`` command."""

from .main import run

if __name__ == "__main__":  # not when a spawned helper process imports this module as __mp_main__
    run()
