"""The one error of the operator's commands: what went wrong, in words the command line prints as they are."""

from __future__ import annotations


class SetupError(Exception):
    pass
