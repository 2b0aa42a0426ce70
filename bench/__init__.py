"""Benchmarks (`make bench`): each prints figures measured side by side; none is a pass/fail test."""

import sys


def arguments(doc: str, *defaults: int | float | None) -> list:
    """The script's positional arguments, each read as a number of its default's type (a whole number
    for a default of None) or the default where none is given. ``--help`` prints ``doc``, the script's
    docstring, and exits; anything else that is no number prints the usage line and exits with status 2:
    before, ``--help`` was a traceback, or ran the whole benchmark in a script that read no arguments."""
    given = sys.argv[1:]
    if {"-h", "--help"} & set(given):
        print(doc.strip())
        raise SystemExit(0)
    words = [word for word in given if not word.startswith("--")][:len(defaults)]
    kinds = [int if default is None else type(default) for default in defaults[:len(words)]]
    try:
        read = [kind(word) for kind, word in zip(kinds, words, strict=True)]
    except ValueError:
        usage = next(line.strip() for line in doc.splitlines() if "python -m bench." in line)
        print(f"usage: {usage}", file=sys.stderr)
        raise SystemExit(2) from None
    return read + list(defaults[len(read):])
