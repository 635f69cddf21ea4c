"""The `flatsim` binary the tests compare the package with: $FLATSIM_BIN,
else the release build (which shares its artifacts with the package's)."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def flatsim_bin() -> Path:
    if "FLATSIM_BIN" in os.environ:
        return Path(os.environ["FLATSIM_BIN"]).resolve()
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "-p", "cli", "--bin", "flatsim"],
        cwd=ROOT,
        check=True,
    )
    return ROOT / "target" / "release" / "flatsim"


@pytest.fixture
def cli(flatsim_bin):
    """Runs `flatsim ARGS…` from the repository root (as in CI: no progress bars)."""

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(flatsim_bin), *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "CI": "1"},
        )

    return run
