"""`markwatch match --workers N` (issue 17): forked workers write exactly what one process
writes, in listing order, and each worker reads only its own share of the file."""
from __future__ import annotations

import io
import json

import pytest

WATCHLIST = """
enterprises:
  - id: e1
    name: 山河行服饰有限公司
    marks: [{id: m1, kind: word, text: 山河行, aliases: [SHANHEXING], nice_classes: [25]}]
"""


def _lines() -> list[str]:
    out = []
    for i in range(40):
        if i % 9 == 4:
            out += ["", "   "]  # blank lines: a block may hold no listing at all
        if i % 13 == 7:
            out.append("{broken json")
            continue
        title = f"山河行 夹克 高仿 {i}" if i % 3 == 0 else f"普通 夹克 {i}"
        out.append(json.dumps({"platform": "mall", "listing_id": f"L{i}", "title": title, "category": "服装/夹克",
                               "price": 10 + i}, ensure_ascii=False))
    return out


@pytest.fixture
def files(tmp_path):
    wl = tmp_path / "wl.yaml"
    wl.write_text(WATCHLIST, encoding="utf-8")
    li = tmp_path / "l.jsonl"
    li.write_text("\n".join(_lines()) + "\n", encoding="utf-8")
    return wl, li


def run(wl, li, workers):
    from matcher.batch import match_file
    from matcher.engine import EngineOptions

    out, err = io.StringIO(), io.StringIO()
    s = match_file(wl, li, out, EngineOptions(ocr=False, logos=False), workers=workers, err=err)
    return out.getvalue(), s


@pytest.mark.parametrize("workers", [2, 3])
def test_forked_workers_write_what_one_process_writes(files, monkeypatch, workers):
    import matcher.batch as batch

    monkeypatch.setattr(batch, "BLOCK", 2)  # many small blocks, some only blank lines
    one, s1 = run(*files, 1)
    many, sn = run(*files, workers)
    assert one.count("\n") >= 10
    assert many == one  # same leads, same order
    assert (sn.listings, sn.bad_lines, sn.leads) == (s1.listings, s1.bad_lines, s1.leads) == (s1.listings, 3, s1.leads)


def test_a_worker_parses_only_its_own_blocks(files, monkeypatch):
    """The broken lines sit in other workers' blocks: worker 0 never sees them, and the workers'
    shares together are the whole file, each listing once."""
    import matcher.batch as batch
    from config.listing import ListingError

    monkeypatch.setattr(batch, "BLOCK", 4)
    _, li = files
    lines = li.read_text(encoding="utf-8").splitlines()
    shares = [list(batch._share(li, k, 3)) for k in range(3)]
    for k, share in enumerate(shares):
        for b, item in share:
            assert b % 3 == k
            line = item.line if isinstance(item, ListingError) else \
                next(n for n, t in enumerate(lines, 1) if f'"{item.listing_id}"' in t)
            assert (line - 1) // 4 == b
    ids = sorted(x.listing_id for share in shares for _, x in share if not isinstance(x, ListingError))
    assert len(ids) == len(set(ids)) == 37
    broken = [n for n, t in enumerate(lines, 1) if t.startswith("{broken")]
    assert {(n - 1) // 4 % 3 for n in broken} != {0}
    assert sorted(e.line for share in shares for _, e in share if isinstance(e, ListingError)) == broken
