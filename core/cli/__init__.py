"""The ``dnalens`` command line: argument parsing (:mod:`.parser`) and one call into core per command
(:mod:`.commands`)."""

from .main import main

__all__ = ["main"]
