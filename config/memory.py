"""Building large long-lived object graphs without paying CPython's cyclic GC for them.

Loading a 5,000-mark watchlist and compiling its matchers creates a few million small objects
(YAML nodes, marks, automaton payload tuples, jieba's and pypinyin's dictionaries). CPython runs
a generation-0 collection every 700 net allocations and older generations after that, and each
pass walks every tracked object again: measured at 100,000 listings x 5,000 marks, the watchlist
load took 1.55 CPU-s with the default thresholds and 0.74 without collections; the matcher
build 1.21 vs 0.73 (issue 17).

`long_lived(freeze=...)` pauses the cyclic GC while the block runs (reference counting still
frees everything that is not in a cycle) and, with `freeze=True`, moves what survived to the
permanent generation (`gc.freeze`, Python >= 3.7), so the later collections while matching do
not walk the watchlist again and forked matcher workers do not copy its pages. Use freeze only in
a process that loads once (the `markwatch match` command): cyclic garbage made before a freeze is
never collected.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def long_lived(freeze: bool = False) -> Iterator[None]:
    """Run the block with the cyclic GC paused (restored after, even on error); then `gc.freeze()`
    when `freeze` is true."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
    if freeze:
        gc.freeze()
