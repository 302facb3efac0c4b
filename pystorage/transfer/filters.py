"""Include and exclude globs, as rclone reads them.

* ``*`` matches any run of characters except ``/``; ``**`` matches anything,
  ``/`` included; ``?`` one character except ``/``; ``[abc]`` / ``[!abc]`` a
  class; ``{a,b}`` alternatives.
* A pattern starting with ``/`` is anchored at the root of the transfer
  (the source or destination prefix); otherwise it matches the end of the
  path on a whole segment boundary: ``*.log`` matches ``a.log`` and
  ``x/y/a.log``; ``logs/*.gz`` matches ``logs/a.gz`` and ``x/logs/a.gz``.
* A pattern ending with ``/`` matches a directory and so everything below it:
  ``--exclude cache/`` leaves out every ``cache/`` directory (the same as
  ``cache/**``); any other pattern matches files only.

A path is transferred when no exclude pattern matches it and, if include
patterns are given, at least one of them does. (rclone evaluates mixed
filter rules in order; here excludes always win, which is what a mixed
``--include``/``--exclude`` command line is nearly always meant to say.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["PathFilter", "glob_to_regex"]


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """The regular expression of one glob (see the module docs).

    Raises:
        ValueError: an empty pattern, or unbalanced ``[`` / ``{``.
    """
    if not pattern:
        raise ValueError("empty filter pattern")
    anchored = pattern.startswith("/")
    body = pattern.lstrip("/")
    directory = body.endswith("/")
    body = body.rstrip("/")
    out: list[str] = []
    i, depth = 0, 0
    while i < len(body):
        c = body[i]
        if c == "*":
            if body.startswith("**", i):
                out.append(".*")
                i += 2
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = body.find("]", i + 2 if body.startswith("[!", i) else i + 1)
            if end < 0:
                raise ValueError(f"unbalanced '[' in filter pattern {pattern!r}")
            inner = body[i + 1 : end]
            if inner.startswith("!"):
                inner = "^" + inner[1:]
            out.append("[" + inner.replace("\\", "\\\\") + "]")
            i = end
        elif c == "{":
            out.append("(?:")
            depth += 1
        elif c == "}" and depth:
            out.append(")")
            depth -= 1
        elif c == "," and depth:
            out.append("|")
        elif c == "\\" and i + 1 < len(body):
            i += 1
            out.append(re.escape(body[i]))
        else:
            out.append(re.escape(c))
        i += 1
    if depth:
        raise ValueError(f"unbalanced '{{' in filter pattern {pattern!r}")
    head = "" if anchored else "(?:.*/)?"
    tail = "/.*" if directory else ""
    return re.compile(f"^{head}{''.join(out)}{tail}$", re.DOTALL)


class PathFilter:
    """Decides which relative paths a transfer takes.

    Args:
        include: globs; when given, only paths matching one are taken.
        exclude: globs; paths matching one are never taken (excludes win).

    Raises:
        ValueError: a malformed pattern.
    """

    def __init__(self, include: Iterable[str] = (), exclude: Iterable[str] = ()) -> None:
        if isinstance(include, str) or isinstance(exclude, str):
            raise TypeError("include and exclude take a sequence of globs, not a single str")
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        self._include = [glob_to_regex(p) for p in self.include]
        self._exclude = [glob_to_regex(p) for p in self.exclude]

    @property
    def everything(self) -> bool:
        """Whether every path is taken (no patterns)."""
        return not (self._include or self._exclude)

    def __call__(self, path: str) -> bool:
        """Whether ``path`` (relative to the transfer's prefix) is taken."""
        if any(r.match(path) for r in self._exclude):
            return False
        return not self._include or any(r.match(path) for r in self._include)
