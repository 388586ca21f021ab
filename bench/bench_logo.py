"""Logo matching benchmark: images/s, peak memory and accuracy as the number of registered logos grows.

    python -m bench logo                               # 100, 1000, 5000 logos, 200 photos each
    python -m bench.bench_logo --logos 1000 --photos 300

Each size runs in its own process pinned to one OpenCV thread, so peak RSS is that size's own.
Logos and photos are synthesised (matcher/logo_synth.py): positives paste a registered logo small,
rotated, maybe recoloured/blurred, on clutter; distractors paste a logo of the same shape and colour
with other letters (not registered); the rest is clutter only. Logo features are cached under
``var/bench-cache`` (by image hash, as in production), so only the first run pays for them; the
"build" column shows the index build plus, on a cold cache, feature extraction.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def logo_watchlist(specs: list[dict], prefix: str):
    """A watchlist of one enterprise per logo spec (matcher.logo_synth.make_logo), the images drawn
    into a fresh temporary folder (``prefix``); marks ``logo-<i>``, Nice class 25."""
    from matcher.logo_synth import make_logo
    from watchlist.model import Enterprise, Mark, Watchlist

    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    (tmp / "logos").mkdir()
    ents = []
    for i, s in enumerate(specs):
        make_logo(**s).save(tmp / "logos" / f"l{i}.png")
        ents.append(Enterprise(id=f"e{i}", name=f"E{i}", marks=[
            Mark(id=f"logo-{i}", kind="logo", image=f"logos/l{i}.png", nice_classes=[25])]))
    return Watchlist(enterprises=ents, base_dir=tmp)


def run_one(n_logos: int, n_photos: int, cache_dir: str | None, seed: int = 7) -> dict:
    os.environ["MARKWATCH_CV_THREADS"] = "1"
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import resource

    import cv2

    cv2.setNumThreads(1)
    from matcher.logo import LogoMatcher
    from matcher.logo_synth import SHAPES, distractor_spec, make_logo, make_photo, random_logo_spec

    rng = random.Random(seed)
    specs, seen = [], set()
    while len(specs) < n_logos:
        # 8 shapes x 24^2 two-letter combinations = 4 608: beyond ~2 000 logos, add three-letter ones
        s = random_logo_spec(rng, 2 if len(specs) < 2000 else 3)
        key = (s["shape"], s["letters"])
        if key in seen:
            continue
        seen.add(key)
        specs.append(s)
    wl = logo_watchlist(specs, "bench-logo-")
    tmp = wl.base_dir

    t0 = time.perf_counter()
    m = LogoMatcher(wl, cache_dir=cache_dir)
    build = time.perf_counter() - t0

    # photos: 40 % positive, 30 % same-shape distractor (unregistered letters), 30 % clutter only
    truth = []
    (tmp / "photos").mkdir()
    for j in range(n_photos):
        r = rng.random()
        p = tmp / "photos" / f"p{j}.jpg"
        if r < 0.4:
            k = rng.randrange(n_logos)
            img, _ = make_photo(make_logo(**specs[k]), rng)
            truth.append(f"logo-{k}")
        elif r < 0.7:
            k = rng.randrange(n_logos)
            while True:
                d = distractor_spec(specs[k], rng)
                if (d["shape"], d["letters"]) not in seen:
                    break
            img, _ = make_photo(make_logo(**d), rng)
            truth.append("distractor")
        else:
            img, _ = make_photo(None, rng)
            truth.append("clutter")
        img.save(p, quality=90)

    marks = {i: [mk.id for _, mk in ms] for i, ms in enumerate(m.marks_of)}
    tp = fp = fn = 0
    fp_by = {"distractor": 0, "clutter": 0, "positive": 0}
    t0 = time.perf_counter()
    c0 = time.process_time()
    for j, want in enumerate(truth):
        dets, _ = m.detect_file(str(tmp / "photos" / f"p{j}.jpg"))
        got = {mid for d in dets for mid in marks[d.template]}
        if want.startswith("logo-"):
            tp += want in got
            fn += want not in got
            fp += len(got - {want})
            fp_by["positive"] += len(got - {want})
        else:
            fp += len(got)
            fp_by[want] += len(got)
    match_s = time.perf_counter() - t0
    cpu_s = time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    return {"logos": n_logos, "photos": n_photos, "descriptors": m.index.n, "build_s": round(build, 2),
            "cache_hits": m.cache.hits, "img_per_s": round(n_photos / match_s, 1),
            "ms_per_img": round(match_s / n_photos * 1000, 1), "cpu_img_per_s": round(n_photos / cpu_s, 1), "peak_rss_mib": round(rss),
            "recall": round(tp / max(1, tp + fn), 3), "precision": round(tp / max(1, tp + fp), 3),
            "false_leads": fp_by, "shapes": len(SHAPES)}


def run_heldout(n_photos: int = 300, seed: int = 11, dump: str | None = None) -> dict:
    """Held-out check: marks of shapes the dev corpus and tests never use (logo_synth.HELDOUT_SHAPES),
    photographed with the changes of real photos the dev corpus lacks: perspective (tilt up to 0.35),
    a sticker over up to 20 % of the logo, plus the usual scale/rotation/recolour/blur/JPEG.

    Registered: the three silhouettes (trefoil, swoosh, crown, no letters) and 13 lettered logos
    (globe, oval and three-letter versions of the dev shapes). Photos: 45 % a registered logo,
    30 % a distractor (same shape and colour, other letters; for silhouettes another plain
    shape), 25 % clutter. Returns recall, precision and the misses/false leads by case."""
    os.environ["MARKWATCH_CV_THREADS"] = "1"
    import cv2

    cv2.setNumThreads(1)
    from matcher.logo import LogoMatcher
    from matcher.logo_synth import HELDOUT_SHAPES, SHAPES, SILHOUETTES, distractor_spec, make_logo, make_photo, \
        random_logo_spec

    rng = random.Random(seed)
    specs = [{"letters": "", "shape": sh, "color": tuple(rng.randrange(20, 200) for _ in range(3)), "arc": 0}
             for sh in SILHOUETTES]
    lettered = [sh for sh in HELDOUT_SHAPES if sh not in SILHOUETTES]
    seen = set()
    while len(specs) < 16:
        s = random_logo_spec(rng, 2 if len(specs) < 9 else 3, lettered if len(specs) < 9 else SHAPES)
        if (s["shape"], s["letters"]) not in seen:
            seen.add((s["shape"], s["letters"]))
            specs.append(s)
    wl = logo_watchlist(specs, "heldout-logo-")
    tmp = wl.base_dir
    m = LogoMatcher(wl)
    if m.problems:
        raise SystemExit(f"held-out logos refused: {m.problems}")
    marks = {i: [mk.id for _, mk in ms] for i, ms in enumerate(m.marks_of)}
    tp = fn = 0
    fp: dict[str, int] = {}
    miss: dict[str, int] = {}
    rows = []
    for j in range(n_photos):
        r = rng.random()
        kw = {}
        if r < 0.45:
            k = rng.randrange(len(specs))
            case = "plain"
            if rng.random() < 0.5:
                kw["tilt"] = rng.uniform(0.1, 0.35)
                case = "tilt"
            if rng.random() < 0.3:
                kw["occlude"] = rng.uniform(0.1, 0.2)
                case += "+occluded"
            img, _ = make_photo(make_logo(**specs[k]), rng, **kw)
            want = f"logo-{k}"
        elif r < 0.75:
            k = rng.randrange(len(specs))
            if specs[k]["letters"]:
                d = distractor_spec(specs[k], rng)
            else:
                d = {**specs[k], "letters": "", "shape": rng.choice(("disc", "rounded", "hexagon", "diamond",
                                                                     "triangle", "shield"))}
                d["letters"] = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(2))
            if rng.random() < 0.5:
                kw["tilt"] = rng.uniform(0.1, 0.35)
            img, _ = make_photo(make_logo(**d), rng, **kw)
            want, case = "", "distractor"
        else:
            img, _ = make_photo(None, rng)
            want, case = "", "clutter"
        p = tmp / f"p{j}.jpg"
        img.save(p, quality=88)
        dets, _ = m.detect_file(str(p))
        got = {mid for d in dets for mid in marks[d.template]}
        if dump:
            from matcher.logo_features import debug_candidates, photo_features
            import numpy as np
            from PIL import Image
            ph = photo_features(np.asarray(Image.open(p).convert("L")))
            for ti, votes, det in debug_candidates(m.index, ph):
                if det is not None:
                    rows.append({"photo": j, "case": case, "true": marks[ti][0] == want, "score": round(det.score, 3),
                                 "inliers": det.inliers, "fit": det.transform, **det.parts})
        if want:
            tp += want in got
            fn += want not in got
            if want not in got:
                miss[case] = miss.get(case, 0) + 1
        for g in got - {want}:
            fp[case] = fp.get(case, 0) + 1
    if dump:
        Path(dump).write_text("\n".join(json.dumps(r) for r in rows))
    nfp = sum(fp.values())
    return {"logos": len(specs), "photos": n_photos, "recall": round(tp / max(1, tp + fn), 3),
            "precision": round(tp / max(1, tp + nfp), 3), "true": tp, "misses": miss, "false_leads": fp}


def run_real(folder: str, verbose: bool = False) -> dict:
    """Real photos (tests/data/flickrlogos27): each registered logo is a crop of one photo of the
    brand (what a holder without artwork would upload); the other photos of those brands must show
    it, photos of other brands and of unrelated scenes must not. ``manifest.json`` lists them."""
    os.environ["MARKWATCH_CV_THREADS"] = "1"
    from matcher.logo import LogoMatcher
    from watchlist.model import Enterprise, Mark, Watchlist

    base = Path(folder)
    man = json.loads((base / "manifest.json").read_text())
    ents = [Enterprise(id=f"e-{k}", name=k, marks=[Mark(id=k, kind="logo", image=f"logos/{k}.png", nice_classes=[25],
                                                        well_known=True)]) for k in man["logos"]]
    m = LogoMatcher(Watchlist(enterprises=ents, base_dir=base))
    marks = {i: [mk.id for _, mk in ms] for i, ms in enumerate(m.marks_of)}
    tp = fn = 0
    false: list[str] = []
    missed: list[str] = []
    c0 = time.process_time()
    for ph in man["photos"]:
        dets, _ = m.detect_file(str(base / "photos" / ph["file"]))
        got = {mid: d for d in dets for mid in marks[d.template]}
        want = ph.get("shows")
        if want:
            if want in got:
                tp += 1
            else:
                fn += 1
                missed.append(f"{ph['file']} ({want})")
        for g, d in got.items():
            if g != want:
                false.append(f"{ph['file']} ({ph.get('brand') or want}) -> {g} {d.score:.2f}")
        if verbose:
            print(ph["file"], want, {g: round(d.score, 2) for g, d in got.items()}, file=sys.stderr)
    cpu = time.process_time() - c0
    return {"logos": len(man["logos"]), "refused": m.problems, "photos": len(man["photos"]),
            "positives": tp + fn, "recall": round(tp / max(1, tp + fn), 3), "false_leads": false,
            "missed": missed, "cpu_s_per_photo": round(cpu / max(1, len(man["photos"])), 3)}


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="bench_logo")
    ap.add_argument("--logos", default="100,1000,5000", help="comma list of registered-logo counts")
    ap.add_argument("--photos", type=int, default=200)
    ap.add_argument("--cache-dir", default=str(ROOT / "var" / "bench-cache"), help="'' for no feature cache")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--heldout", action="store_true", help="held-out shapes with perspective and occlusion")
    ap.add_argument("--dump", help=argparse.SUPPRESS)
    ap.add_argument("--real", help="a folder of real photos with manifest.json (tests/data/flickrlogos27)")
    a = ap.parse_args(argv)
    if a.real:
        print(json.dumps(run_real(a.real, verbose=True), ensure_ascii=False, indent=1))
        return
    if a.heldout:
        print(json.dumps(run_heldout(a.photos, dump=a.dump)))
        return
    if a.one:
        print(json.dumps(run_one(a.one, a.photos, a.cache_dir or None)))
        return
    print("logo matching, one core (OpenCV threads = 1), synthetic logos and photos")
    print(f"{'logos':>6} {'descr':>8} {'build s':>8} {'img/s':>6} {'cpu img/s':>9} {'ms/img':>7} {'peak MiB':>9} "
          f"{'recall':>7} {'prec':>6}  false leads")
    for n in [int(x) for x in a.logos.split(",") if x.strip()]:
        cmd = [sys.executable, "-m", "bench.bench_logo", "--one", str(n), "--photos", str(a.photos),
               "--cache-dir", a.cache_dir]
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MARKWATCH_CV_THREADS": "1"}
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
        if p.returncode != 0:
            print(f"{n:>6} failed: {p.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(p.stdout.strip().splitlines()[-1])
        cold = "" if r["cache_hits"] >= n else " (cold)"
        print(f"{r['logos']:>6} {r['descriptors']:>8} {r['build_s']:>8.1f} {r['img_per_s']:>6.1f} {r['cpu_img_per_s']:>9.1f} "
              f"{r['ms_per_img']:>7.1f} {r['peak_rss_mib']:>9} {r['recall']:>7.3f} {r['precision']:>6.3f}  "
              f"{r['false_leads']}{cold}", flush=True)
    print("img/s is wall clock (includes decoding); cpu img/s = photos / process CPU time, the per-core rate\n"
          "when other processes share the machine. targets: >= 10 img/s and < 2048 MiB peak with 1000 logos")


if __name__ == "__main__":
    main(sys.argv[1:])
