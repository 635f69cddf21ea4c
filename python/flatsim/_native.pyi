"""The native module: the command line's own code, called with a subcommand's
arguments as on the command line. Use the functions of ``flatsim`` instead."""

from os import PathLike
from typing import Any, Callable

class ConfigError(ValueError):
    """Bad input: the message names the file, the key and the reason (the CLI exits 2)."""

class SimulationError(RuntimeError):
    """A simulation failed (the CLI exits 1), or flatsim hit an internal error."""

def run(args: list[str]) -> dict[str, Any]:
    """``flatsim run ARGS…`` → {"files": {name: text}, "plan_label": str,
    "loop_nest": str, "tried": [(label, cycles, finished)]}."""

def compile(args: list[str]) -> str:
    """``flatsim compile ARGS…`` → what it prints."""

def gemm(args: list[str]) -> tuple[str, str]:
    """``flatsim gemm ARGS…`` → (summary.csv, the line it prints)."""

def dram(args: list[str]) -> tuple[str, str]:
    """``flatsim dram ARGS…`` → (dram.csv, what it prints)."""

def sweep_point_count(path: str | PathLike[str]) -> int:
    """Points of a sweep file."""

def sweep(
    args: list[str], on_point: Callable[[], object] | None = None
) -> tuple[int, int, int, int, str]:
    """``flatsim sweep ARGS…`` in parallel, calling ``on_point()`` as each point
    ends → (points, succeeded, skipped, failed, results directory)."""

def option_names(command: str) -> list[str]:
    """The long option names of a subcommand, and the global ``set``."""

def _panic(message: str) -> None:
    """Panics inside the boundary (tests that it raises SimulationError)."""
