"""pydyf (WeasyPrint 70's PDF writer) writing the same bytes with less work.

Imported by assessment.pdf, which it patches pydyf for (docs/report.md, "Performance").
tests/test_pdf.py renders with and without this patch (``PYDYFS_OWN``) and compares the bytes.
"""

from __future__ import annotations

import pydyf

# pydyf turns every value it writes into bytes through _to_bytes, which tests for bytes, then
# float, then a pydyf object, before it falls back to str(value).encode("ascii"): a report's
# 70,000 values, a third of them names and keys (str) and an eighth integers, each paying two or
# three isinstance calls and a str() first. Bytes, str and int are written here at once, the same
# bytes (str(value) of a str is the value, of an int its digits); anything else, floats and pydyf's
# objects included, by pydyf's own function. pydyf looks _to_bytes up as a module global on each
# call, so its Dictionary, Array and Stream use this one.
PYDYFS_OWN = {(pydyf, "_to_bytes"): pydyf._to_bytes}
_pydyfs_to_bytes = pydyf._to_bytes


def _to_bytes(item) -> bytes:
    """pydyf's _to_bytes, the common types first and without a call or an isinstance test."""
    kind = type(item)
    if kind is bytes:
        return item
    if kind is str:
        return item.encode("ascii")
    if kind is int:
        return b"%d" % item
    return _pydyfs_to_bytes(item)


PATCHES = {(pydyf, "_to_bytes"): _to_bytes}
for (owner, name), patch in PATCHES.items():
    setattr(owner, name, patch)
