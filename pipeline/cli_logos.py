"""`markwatch logos ...`: check registered logos, look for them in a photo, draw where they are."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from config.settings import get_settings

app = typer.Typer(help="Logo marks: check registrations, find logos in photos, draw the boxes.",
                  no_args_is_help=True)


def _fail(msg: str, code: int = 1) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code)


def _load(watchlist: Path):
    from watchlist import WatchlistError, load_watchlist

    try:
        return load_watchlist(watchlist)
    except WatchlistError as e:
        _fail(str(e), 2)


@app.command()
def check(watchlist: Path = typer.Argument(..., help="Watchlist YAML"),
          store: bool = typer.Option(False, "--store", help="Also copy logos into DATA_DIR/logos/<sha256>")):
    """Validate every logo mark's image (format, size, decompression bombs), precompute its
    features into the cache, and show feature counts and warnings. Exit 1 if a logo is unusable.

    Example: markwatch logos check crawler/sandbox/demo_watchlist.yaml
    """
    from watchlist.logos import check_logos

    wl = _load(watchlist)
    st = get_settings()
    reports = check_logos(wl, cache_dir=st.resolved_data_dir / "cache",
                          data_dir=st.resolved_data_dir if store else None)
    if not reports:
        typer.echo("no logo marks in this watchlist")
        return
    bad = 0
    for r in reports:
        if r.info:
            i = r.info
            typer.echo(f"ok    {r.mark_id:<24} {i.format:<4} {i.width}x{i.height:<5} {i.features:>4} features  "
                       f"sha256 {i.sha256[:12]}  {r.image}" + (f"  -> {i.stored}" if i.stored else ""))
        else:
            bad += 1
            typer.echo(f"FAIL  {r.mark_id:<24} {r.problem} ({r.problem_zh})")
        for w in r.warnings:
            typer.echo(f"      warning: {w}")
    typer.echo(f"{len(reports) - bad} of {len(reports)} logos usable")
    if bad:
        raise typer.Exit(1)


def _detect(watchlist: Path, image: Path):
    from matcher.images import ImageRejected
    from matcher.logo import LogoMatcher, quad_of

    wl = _load(watchlist)
    m = LogoMatcher(wl, cache_dir=get_settings().resolved_data_dir / "cache")
    for mid, why in m.problems.items():
        typer.echo(f"warning: logo {mid} not used: {why}", err=True)
    try:
        dets, sha = m.detect_file(str(image))
    except ImageRejected as e:
        _fail(f"{image}: {e.message} ({e.reason_zh})")
    out = []
    for d in dets:
        for ent, mark in m.marks_of[d.template]:
            out.append({"target_id": mark.id, "enterprise": ent.name, "label": mark.id,
                        "quad": quad_of(d, m.templates[d.template]), **d.to_evidence()})
    return out, sha


@app.command()
def find(image: Path = typer.Argument(..., help="A photo"),
         watchlist: Path = typer.Option(..., "--watchlist", "-w", help="Watchlist YAML with logo marks"),
         as_json: bool = typer.Option(False, "--json", help="One JSON object per detection")):
    """Look for every registered logo in one photo (no goods-class gating) and print where.

    Example: markwatch logos find photo.jpg -w crawler/sandbox/demo_watchlist.yaml
    """
    out, sha = _detect(watchlist, image)
    if as_json:
        for o in out:
            typer.echo(json.dumps(o, ensure_ascii=False))
        return
    if not out:
        typer.echo(f"{image}: no registered logo found")
    for o in out:
        x, y, w, h = o["bbox"]
        typer.echo(f"{o['target_id']}: x={x} y={y} {w}x{h} angle {o['angle']}° similarity {o['similarity']} "
                   f"({o['inliers']} keypoints)")


@app.command()
def draw(image: Path = typer.Argument(..., help="A photo"),
         watchlist: Path = typer.Option(..., "--watchlist", "-w", help="Watchlist YAML with logo marks"),
         output: Path = typer.Option(..., "--output", "-o", help="Thumbnail to write (.png/.jpg)"),
         max_side: int = typer.Option(480, help="Longer side of the thumbnail")):
    """Find registered logos in a photo and write a thumbnail with their boxes drawn.

    Example: markwatch logos draw photo.jpg -w crawler/sandbox/demo_watchlist.yaml -o boxed.png
    """
    from matcher.logo_draw import draw_detection

    out, _ = _detect(watchlist, image)
    draw_detection(image, out, max_side=max_side).save(output)
    typer.echo(f"{len(out)} logo(s) drawn on {output}")
