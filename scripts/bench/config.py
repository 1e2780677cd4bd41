"""Where `make bench` runs: its databases, Redis database, ports and output folder, and
the environment that gives Django its production settings. Imported by the other
modules of scripts/bench; not run on its own."""

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "var" / "bench"
VENV_BIN = ROOT / ".venv" / "bin"

POSTGRES = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
TEMPLATE_DATABASE = "boundary_bench_template"
# A fresh copy of the template each run, so earlier runs' writes do not pile up.
DATABASE = os.environ.get("BENCH_DATABASE", "boundary_bench")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/12")
HOST = "127.0.0.1"
# Below 32768: outgoing connections never hold them (shared/stack.md).
APP_PORT = int(os.environ.get("BENCH_APP_PORT", "8471"))
FLOOR_PORT = int(os.environ.get("BENCH_FLOOR_PORT", "8472"))
WORKERS = 2
# A page served only by make bench's processes (preloaded.py): Boundary's frame, signed
# in, around an empty body (pages.py, "reference").
FRAME_PATH = "/bench/frame/"


def database_url(name: str = DATABASE) -> str:
    return f"{POSTGRES}/{name}"


def production_environment() -> dict[str, str]:
    """Django's production settings for the bench database, shared by this process and
    the gunicorn it starts: one secret key per run, because sessions made here are
    signed with it and read there."""
    os.environ.setdefault("BENCH_SECRET_KEY", secrets.token_urlsafe(45))
    return {
        "DJANGO_SETTINGS_MODULE": "boundary.settings",
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": os.environ["BENCH_SECRET_KEY"],
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": REDIS,
        "CACHE_URL": REDIS,
        "BOUNDARY_SIGNING_KEY": str(OUT / "keys" / "export-signing-key.pem"),
        "EXPORTS_ROOT": str(OUT / "exports"),
        "EVIDENCE_ROOT": str(OUT / "evidence"),
        "LOG_LEVEL": "WARNING",
    }
