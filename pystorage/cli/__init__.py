"""The ``pystorage`` command line: ``ls``, ``stat``, ``cat``, ``cp``, ``mv``,
``rm``, ``sync``, ``check``, ``presign`` and ``bench`` over any service, with URIs, local paths and
named profiles as targets.

Run it as ``pystorage`` (the console script) or ``python -m pystorage``;
``pystorage --help`` lists the commands and ``docs/cli.md`` documents them,
with the exit codes. Everything here is built on the public async
:class:`~pystorage.Operator`.
"""

from __future__ import annotations

from .main import main

__all__ = ["main"]
