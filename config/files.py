"""File hashing shared by every stage that fixes evidence (证据固定) or dedupes stored files.

`sha256_file(path) -> str`: the lowercase hex SHA-256 (64 characters) of a file's bytes, read in
chunks by `hashlib.file_digest` (Python >= 3.11), so a large screenshot or WARC never sits in
memory whole. Errors: `OSError` (missing, unreadable) from `open`. Rule source: FIPS 180-4
(SHA-256), the digest recorded in the evidence ledger and in referral packs' SHA256SUMS.

Leaf module (standard library only), so officer commands and the ledger do not import the image
stack to hash a file.
"""
from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of the file at `path` (str or Path). Raises OSError if it cannot be read."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
