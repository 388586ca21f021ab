"""The bundled sandbox: a local marketplace and live-commerce site for the demo, tests and benchmarks."""
from pathlib import Path

from .server import SandboxServer, get_catalog

HERE = Path(__file__).resolve().parent
DEMO_WATCHLIST = HERE / "demo_watchlist.yaml"

__all__ = ["SandboxServer", "get_catalog", "DEMO_WATCHLIST"]
