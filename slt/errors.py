"""Errors a user can fix: each carries one sentence naming the problem and the fix.

The command line prints the message of any :class:`SLTError` and exits with
status 2, so bad input never ends in a traceback.
"""


class SLTError(Exception):
    """Base class: an error whose message tells the user what to change."""


class ConfigError(SLTError, ValueError):
    """A configuration value is invalid (out of range, unknown name, inconsistent)."""


class DataError(SLTError):
    """A data set is missing, corrupt, or cannot be downloaded."""


class TicketError(SLTError):
    """A ticket file is corrupt, truncated, or was written by an incompatible library."""


class RunError(SLTError):
    """A run of a sweep failed; the message names it and its cause."""
