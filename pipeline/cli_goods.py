"""`markwatch goods ...`: how a listing's goods are read, and the 类似群 groups of the CNIPA
类似商品和服务区分表 (a thin layer over matcher.goods)."""
from __future__ import annotations

import sys
from typing import List, Optional

import typer

app = typer.Typer(help="Goods: infer a listing's 类似群 groups; show a group of the 类似商品和服务区分表.",
                  no_args_is_help=True, rich_markup_mode=None)


def _en() -> bool:
    from config.settings import get_settings
    return get_settings().language.lower().startswith("en")


@app.command()
def infer(
    categories: Optional[List[str]] = typer.Argument(None, help="Category paths, one per argument; none: read one per line from standard input"),
    title: str = typer.Option("", "--title", help="A title, read when the category names no goods"),
):
    """Print the goods inferred for category paths (and a title): groups, classes, confidence and
    the words that decided, tab-separated; '?' when the goods are unknown.

    \b
    Example:
      markwatch goods infer "家用电器/生活电器/电风扇/艾美特FSW52R" "Shoes/Sneakers"
      家用电器/生活电器/电风扇/艾美特FSW52R	1106	11	0.95	电风扇
      Shoes/Sneakers	2507	25	0.95	sneaker
      markwatch goods infer "" --title "小米手环7 NFC版"
    """
    from matcher.goods import load_goods_classifier

    goods = load_goods_classifier()
    items = list(categories) if categories else [line.rstrip("\r\n") for line in sys.stdin]
    for c in items:
        g = goods.infer(c, title)
        if g.unknown:
            typer.echo(f"{c}\t?\t{'goods unknown' if _en() else '商品未能识别'}")
            continue
        typer.echo(f"{c}\t{','.join(sorted(g.groups)) or '-'}\t{','.join(map(str, sorted(g.classes)))}\t"
                   f"{g.confidence:.2f}\t{'、'.join(g.words)}")


@app.command()
def group(code: str = typer.Argument(..., help="A four-digit 类似群 code, e.g. 2507")):
    """Show a 类似群 group: its name, parts with item counts, and the groups its 注 notes call similar.

    Example: markwatch goods group 2507
    """
    from matcher.goods import load_goods_classifier

    goods = load_goods_classifier()
    g = goods.groups.get(code)
    if g is None:
        typer.echo(f"{code}: {'not a group of the similar goods table' if _en() else '不是类似商品和服务区分表中的类似群'}", err=True)
        raise typer.Exit(2)
    en = _en()
    typer.echo(f"{code} {g['name']}" + (f" (class {g['class']})" if en else f"（第{g['class']}类）"))
    for i, part in enumerate(g["parts"], 1):
        typer.echo(f"  ({i}) {len(part)} " + ("items" if en else "项商品"))
    if g["parts_dissimilar"]:
        typer.echo("  " + ("parts of this group are not similar to each other" if en else "本类似群各部分之间商品不类似"))
    sim = ", ".join(sorted(goods.similar_groups_of(code))) or "-"
    typer.echo(f"  similar groups (group-wide notes): {sim}" if en else f"  整群类似的类似群：{sim}")
    for n in g["notes"]:
        typer.echo(f"  注：{n}")
