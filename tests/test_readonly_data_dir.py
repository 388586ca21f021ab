"""Issue 16 item 8: read-only commands work on a read-only data directory (a copy mounted
read-only for an auditor, a backup, a full disk)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MW = [sys.executable, "-m", "pipeline.cli"] if not (REPO / ".venv/bin/markwatch").exists() else [str(REPO / ".venv/bin/markwatch")]
WL = """version: 1
enterprises:
  - id: ent-moutai
    name: 贵州茅台酒股份有限公司
    marks:
      - {id: tm-moutai, kind: word, text: 茅台, nice_classes: [33], well_known: true, reference_price: 1499}
"""


def _can_mount_ro() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount --bind -o ro /tmp /tmp"], capture_output=True).returncode == 0


def _mw(args, env, read_only: Path | None = None):
    """Run markwatch; with `read_only`, inside a private mount namespace where that directory is
    a read-only bind mount (a real EROFS, which even root cannot write)."""
    cmd = MW + args
    if read_only is not None:
        if os.geteuid() == 0:
            cmd = ["unshare", "-m", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"', str(read_only), *cmd]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=str(REPO))


@pytest.fixture
def readonly_data():
    if os.geteuid() == 0 and not _can_mount_ro():
        pytest.skip("running as root without permission to make a read-only bind mount")
    top = Path(tempfile.mkdtemp(prefix="mw-ro-", dir="/tmp"))
    os.chmod(top, 0o755)
    data = top / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKWATCH_")}
    env.update(MARKWATCH_DATA_DIR=str(data), MARKWATCH_OCR_ENABLED="false", MARKWATCH_LOGO_ENABLED="false",
               HOME=str(top))
    (top / "wl.yaml").write_text(WL, encoding="utf-8")
    (top / "l.jsonl").write_text("\n".join(json.dumps(
        {"platform": "mall", "listing_id": f"x{i}", "title": f"贵州茅台 飞天 高仿 {i}", "price": 199,
         "seller_name": "酒行", "category": "酒类/白酒"}, ensure_ascii=False) for i in range(3)) + "\n", encoding="utf-8")
    for args in (["watchlist", "import", str(top / "wl.yaml")], ["listings", "import", str(top / "l.jsonl")],
                 ["run", "--no-crawl", "-q"]):
        r = _mw(args, env)
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    for p in [data, *data.rglob("*")]:
        os.chmod(p, 0o555 if p.is_dir() else 0o444)
    yield env, data
    for p in [data, *data.rglob("*")]:
        os.chmod(p, 0o755)
    shutil.rmtree(top, ignore_errors=True)


def test_read_only_commands_work_on_a_read_only_data_dir(readonly_data):
    env, data = readonly_data
    before = sorted((p.name, p.stat().st_mtime) for p in data.rglob("*"))
    r = _mw(["leads", "list"], env, read_only=data)
    assert r.returncode == 0, r.stderr
    assert "茅台" in r.stdout
    r = _mw(["evidence", "verify", "--no-files"], env, read_only=data)
    assert r.returncode == 0, r.stderr
    r = _mw(["runs", "list"], env, read_only=data)
    assert r.returncode == 0 and r.stdout.strip(), r.stderr
    assert sorted((p.name, p.stat().st_mtime) for p in data.rglob("*")) == before


def test_writing_to_a_read_only_data_dir_fails_clearly(readonly_data):
    env, data = readonly_data
    r = _mw(["leads", "dismiss", "1", "--by", "tester", "--reason", "x"], env, read_only=data)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr and "readonly" in (r.stderr + r.stdout).lower().replace("-", "")
