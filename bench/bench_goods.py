"""Goods inference on REAL marketplace data (tests/data/real-goods/): accuracy of the inferred Nice
class, how many listings stay `unknown`, and the cost per category path and per title.

Run: ``make bench BENCH_ARGS=goods`` or ``.venv/bin/python -m bench.bench_goods``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from matcher.goods import GoodsClassifier, load_goods_classifier

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "real-goods"
SETS = {  # file -> (column read as the category path, column read as the title)
    "category_paths.tsv": "category",
    "heldout_category_paths.tsv": "category",   # another tree, labelled before evaluation
    "english_categories.tsv": "category",
    "heldout_english_categories.tsv": "category",  # labelled before evaluation
    "titles.tsv": "title",
}


@dataclass
class Accuracy:
    """Counts over labelled rows: ok (true class among the inferred ones), wrong, unknown;
    precise = ok with exactly one inferred class. Rows labelled '-' are not counted."""
    n: int = 0
    ok: int = 0
    wrong: int = 0
    unknown: int = 0
    precise: int = 0
    wrong_rows: list = field(default_factory=list)

    def rate(self, k: int) -> float:
        return k / self.n if self.n else 0.0


def rows(name: str):
    """(text, true class) of a dev file; '#' lines are comments, '-' labels are skipped."""
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if cols[1] == "-":
            continue
        yield cols[0], int(cols[1])


def evaluate(name: str, goods: GoodsClassifier | None = None) -> Accuracy:
    goods = goods or load_goods_classifier()
    acc = Accuracy()
    for text, true in rows(name):
        inf = goods.infer(text, "") if SETS[name] == "category" else goods.infer("", text)
        acc.n += 1
        if inf.unknown:
            acc.unknown += 1
        elif true in inf.classes:
            acc.ok += 1
            acc.precise += len(inf.classes) == 1
        else:
            acc.wrong += 1
            acc.wrong_rows.append((text, true, sorted(inf.classes), inf.words))
    return acc


def main(argv: list[str]) -> None:
    goods = load_goods_classifier()
    for name in SETS:
        a = evaluate(name, goods)
        print(f"{name}: n={a.n} ok={a.ok} ({a.rate(a.ok):.1%}) precise={a.precise} ({a.rate(a.precise):.1%}) "
              f"wrong={a.wrong} ({a.rate(a.wrong):.1%}) unknown={a.unknown} ({a.rate(a.unknown):.1%})")
        for w in a.wrong_rows[:5]:
            print("   wrong:", w)
    paths = [t for t, _ in rows("category_paths.tsv")]
    titles = [t for t, _ in rows("titles.tsv")]
    fresh = GoodsClassifier.__new__(GoodsClassifier)
    fresh.__dict__.update(goods.__dict__)
    t0 = time.perf_counter()
    for p in paths:
        goods.from_path.__func__(fresh, p + "/x")  # uncached: a path not seen before
    t1 = time.perf_counter()
    for _ in range(20):
        for p in paths:
            goods.from_path(p)
    t2 = time.perf_counter()
    for _ in range(5):
        for t in titles:
            goods.from_text(t)
    t3 = time.perf_counter()
    print(f"cost: new path {1e6 * (t1 - t0) / len(paths):.1f} us, cached path "
          f"{1e6 * (t2 - t1) / (20 * len(paths)):.2f} us, title {1e6 * (t3 - t2) / (5 * len(titles)):.1f} us")


if __name__ == "__main__":
    main([])
