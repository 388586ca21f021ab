"""Build config/data/english_words.txt: ordinary English words of 5-12 letters, lower case.

The text matcher's one-letter-off check (kind `fuzzy`) skips a token that is itself an ordinary
English word ('Phone' is not a typo of 'iPhone', 'Shine' is not 'SHEIN'). Run at build time:

    python config/data/english_words_build.py /usr/share/dict/american-english > config/data/english_words.txt

Source: SCOWL word list as packaged by Debian (`wamerican`, size 50), Copyright 2000-2011 Kevin
Atkinson and others, permissive licence (see /usr/share/doc/wamerican/copyright).
"""
from __future__ import annotations

import sys


def build(path: str) -> list[str]:
    words = set()
    with open(path, encoding="utf-8", errors="ignore") as f:
        for line in f:
            w = line.strip()
            if w.endswith("'s"):
                w = w[:-2]
            if w.isascii() and w.isalpha() and w.islower() and 5 <= len(w) <= 12:
                words.add(w)
    return sorted(words)


if __name__ == "__main__":
    src = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/dict/american-english"
    ws = build(src)
    print("# Ordinary English words, 5-12 letters, lower case; built by config/data/english_words_build.py")
    print("# Source: SCOWL (wamerican 2020.12.07-2, Debian), Copyright 2000-2011 Kevin Atkinson; permissive licence.")
    print(f"# {len(ws)} words")
    for w in ws:
        print(w)
