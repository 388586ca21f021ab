"""`markwatch geo ...`: the administrative-division gazetteer (GB/T 2260) from the command line."""
from __future__ import annotations

import sys
from typing import List, Optional

import typer

app = typer.Typer(help="Administrative divisions: resolve place names to GB/T 2260 codes.",
                  no_args_is_help=True, rich_markup_mode=None)


@app.command()
def resolve(
    texts: Optional[List[str]] = typer.Argument(None, help="Locations, one per argument; none: read one per line from standard input"),
    explain: bool = typer.Option(False, "--explain", help="Add a third column: the place words found and any note"),
    strict: bool = typer.Option(False, "--strict", help="Exit with status 1 when any input did not resolve"),
):
    """Resolve seller locations and 产地 fields to the most specific division.

    Prints one line per input: the 6-digit code, a tab and the full name (省市县) — or '?', a tab
    and why (no place name, a name shared by several places, contradictory names). With --strict
    the exit status is 1 when any input did not resolve.

    \b
    Example:
      markwatch geo resolve "浙江 义乌" "产地：山东寿光" 西湖
      330782	浙江省金华市义乌市
      370783	山东省潍坊市寿光市
      ?	'西湖'有多处同名：浙江省杭州市西湖区、江西省南昌市西湖区，未写明省/市
      printf '发货地 江苏·苏州\\n金华义乌\\n' | markwatch geo resolve
    """
    from matcher.geo import resolve_location

    items = list(texts) if texts else None
    all_ok = True
    out = sys.stdout
    for t in items if items is not None else _stdin_lines():
        if isinstance(t, _Undecodable):
            all_ok = False
            out.write(f"?\tline {t.lineno}: neither UTF-8 nor GB18030 text\n")
            continue
        r = resolve_location(t)
        all_ok &= r.ok
        line = r.line().replace("\n", " ")
        if explain:
            extra = "、".join(r.matched)
            if r.ok and r.reason:
                extra += f"；{r.reason}"
            line += f"\t{extra}"
        out.write(line + "\n")
    out.flush()
    raise typer.Exit(1 if strict and not all_ok else 0)


class _Undecodable:
    def __init__(self, lineno: int):
        self.lineno = lineno


def _stdin_lines():
    """Lines of standard input as text: UTF-8 (with or without BOM), else GB18030 (GBK files from
    Chinese Excel), said once on stderr; a line that is neither becomes an error line, and the
    rest are still read."""
    said = False
    for n, raw in enumerate(sys.stdin.buffer, 1):
        raw = raw.rstrip(b"\r\n")
        if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield raw.decode("utf-8")
            continue
        except UnicodeDecodeError:
            pass
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            yield _Undecodable(n)
            continue
        if not said:
            typer.echo(f"note: line {n} read as GB18030 (not UTF-8)", err=True)
            said = True
        yield text


@app.command()
def show(code: str = typer.Argument(..., help="A 6-digit GB/T 2260 code (old codes of renamed units are accepted)")):
    """Show a division: code, full name, level, and the current code for an old one.

    Example: markwatch geo show 510124   (郫县, now 510117 四川省成都市郫都区)
    """
    from matcher.geo import LEVEL_NAMES, gazetteer

    gz = gazetteer()
    cur = gz.current_code(code)
    d = gz.by_code.get(cur)
    if d is None:
        typer.echo(f"?\tunknown code {code}", err=True)
        raise typer.Exit(1)
    note = f"\t(formerly {code})" if cur != code else ""
    typer.echo(f"{d.code}\t{gz.full_name(d.code)}\t{LEVEL_NAMES[d.level]}{note}")
