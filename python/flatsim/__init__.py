"""flatsim from Python: cycle-level simulation of attention accelerators.

Every function runs the `flatsim` command line's own code in-process (the
Rust crates, through ``flatsim._native``): the same options, the same
numbers, the same CSV text and the same error messages. Keywords are the
command line's options with ``_`` for ``-`` (``seq_len`` is ``--seq-len``);
``None`` leaves an option at the command line's default; ``set`` maps
hardware-config keys to values (``--set KEY=VALUE``).

>>> import flatsim
>>> r = flatsim.run("edge", "bert", "flash", seq_len=1024, mapping="auto")
>>> r.summary["cycles"], r.plan.label
>>> r.stats, r.timeline                      # pandas DataFrames
>>> flatsim.sweep({"seq_len": [512, 1024], "dataflow": ["flat", "flash"]},
...               base={"hw": "edge", "workload": "bert", "mapping": "auto"}, jobs=2)

Bad input raises :class:`ConfigError` (a ``ValueError``) naming the file,
key and reason; a failed simulation raises :class:`SimulationError`. The
GIL is released while flatsim works, so other Python threads keep running.
See docs/python.md.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence, Union

import pandas as pd

from . import _native
from ._native import ConfigError, SimulationError

__all__ = [
    "ConfigError",
    "SimulationError",
    "SweepError",
    "RunResult",
    "Plan",
    "Candidate",
    "Compiled",
    "GemmResult",
    "DramResult",
    "run",
    "compile",
    "gemm",
    "dram_replay",
    "sweep",
    "sweep_file",
    "sweep_text",
]

PathLike = Union[str, "os.PathLike[str]"]
Scalar = Union[str, int, float, bool]
Overrides = Mapping[str, Scalar]
Progress = Union[bool, Callable[[], object]]

# Options that are flags without a value on the command line.
_SWITCHES = {"functional", "no_fast_forward", "force", "perfetto"}


def _arguments(options: Mapping[str, Any], overrides: Overrides | None) -> list[str]:
    """Command-line arguments from keywords: ``seq_len=512`` → ``--seq-len 512``."""
    args: list[str] = []
    for name, value in options.items():
        if value is None or (name in _SWITCHES and value is False):
            continue
        flag = "--" + name.replace("_", "-")
        if name in _SWITCHES:
            args.append(flag)
        elif isinstance(value, bool):
            args += [flag, "true" if value else "false"]
        elif isinstance(value, (list, tuple)):
            args += [flag, ",".join(str(v) for v in value)]
        else:
            args += [flag, os.fspath(value) if isinstance(value, os.PathLike) else str(value)]
    for key, value in (overrides or {}).items():
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        args += ["--set", f"{key}={text}"]
    return args


def _cell(text: str) -> Scalar | None:
    """A CSV cell as the value it prints: empty is None, numbers are numbers."""
    if text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _record(csv_text: str) -> dict[str, Scalar | None]:
    """The one row of a one-row CSV as a dict."""
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    if len(rows) != 1:
        raise SimulationError(f"expected one row, found {len(rows)}:\n{csv_text}")
    return {key: _cell(value) for key, value in rows[0].items()}


def _frame(csv_text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(csv_text))


@dataclass(frozen=True)
class Candidate:
    """A plan that ``mapping="auto"`` simulated."""

    label: str
    #: Its cycles, or, if it was given up on, the cycle it had reached.
    cycles: int
    #: False when it was given up on because it could not beat the best plan so far.
    finished: bool


@dataclass(frozen=True)
class Plan:
    """The plan a run simulated: ``str(plan)`` is its label and loop nest."""

    #: E.g. ``flat gran=r rows=64 cols=512 l=os a=os slots=2``.
    label: str
    #: The loop nest, as ``flatsim compile --emit loops`` prints it.
    loop_nest: str
    #: With ``mapping="auto"``: every plan simulated, in the order tried.
    candidates: list[Candidate] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.label}\n{self.loop_nest}"


class RunResult:
    """A finished :func:`run`.

    Attributes:
        files: the output files ``flatsim run --out`` writes (``summary.csv``,
            ``stats.csv``, ``timeline.csv``, ``config.resolved.toml``), byte for byte.
        summary: summary.csv's row as a dict (cycles, pe_util, stall_*, …).
        stats: stats.csv: one row per unit statistic (unit, stat, value, unit_of_measure).
        timeline: timeline.csv: one row per epoch (cycle_start, cycle_end, pe_util, …).
        plan: the simulated :class:`Plan`.
        config: the resolved hardware config as TOML text.
    """

    def __init__(self, native: Mapping[str, Any]) -> None:
        self.files: dict[str, str] = dict(native["files"])
        self.summary: dict[str, Scalar | None] = _record(self.files["summary.csv"])
        self.stats: pd.DataFrame = _frame(self.files["stats.csv"])
        self.timeline: pd.DataFrame = _frame(self.files["timeline.csv"])
        self.config: str = self.files["config.resolved.toml"]
        self.plan = Plan(
            native["plan_label"],
            native["loop_nest"],
            [Candidate(*t) for t in native["tried"]],
        )

    def __repr__(self) -> str:
        s = self.summary
        return f"<flatsim.RunResult {self.plan.label} on {s['hw']}: {s['cycles']} cycles, pe_util {s['pe_util']}>"


def run(
    hw: PathLike,
    workload: PathLike,
    dataflow: str,
    *,
    batch: int | None = None,
    seq_len: int | None = None,
    kv_heads: int | None = None,
    mask: str | None = None,
    window: int | str | None = None,
    phase: str | None = None,
    query_len: int | None = None,
    kv_len: int | None = None,
    gran: str | None = None,
    rows: int | None = None,
    cols: int | None = None,
    mapping: str | None = None,
    spill: bool | None = None,
    candidates: int | None = None,
    functional: bool = False,
    seed: int | None = None,
    no_fast_forward: bool = False,
    epoch_cycles: int | None = None,
    max_cycles: int | None = None,
    out: PathLike | None = None,
    force: bool = False,
    trace: Sequence[str] | None = None,
    trace_limit: int | None = None,
    perfetto: bool = False,
    set: Overrides | None = None,
) -> RunResult:
    """Compile and simulate attention cycle by cycle, as ``flatsim run``.

    Args:
        hw: hardware config: a preset (edge, cloud, edge-cycle, cloud-cycle) or a TOML file.
        workload: a built-in workload (bert, trxl, t5, xlm, llama3-8b, …), a workload
            TOML file or a Hugging Face config.json.
        dataflow: unfused, flat or flash.
        batch, seq_len: override the workload's B and N (prefill).
        kv_heads: KV heads (grouped-query attention; 1 is MQA); mask: none or causal;
            window: sliding window in tokens (with mask="causal"), or "none".
        phase: prefill or decode; query_len, kv_len: new and cached tokens per sequence in decode.
        gran: FLAT granularity m, b, h or r (flat only).
        rows, cols: tile rows R and keys per block C.
        mapping: "auto" (the default) searches tilings, spilling and GEMM dataflows for the
            fastest plan that fits; "fixed" takes gran/rows/cols and the defaults (the
            default when one of them is given).
        spill: whether flat plans may stream K and V from DRAM (default: yes unless the
            workload file says ``spill = false``).
        candidates: best-ranked plans that mapping="auto" simulates.
        functional: move real values and check O against reference attention
            (``summary["max_abs_error"]``); seed: its inputs' seed.
        no_fast_forward: step every cycle (same numbers, slower).
        epoch_cycles: cycles per row of the timeline.
        max_cycles: refuse (ConfigError) a run whose estimated or simulated time exceeds this.
        out: also write the output files into this directory (force: into an existing one).
        trace: per-event CSV traces of these units into ``out``: pe, dma, vector, dram.
        trace_limit: largest trace allowed, in bytes.
        perfetto: write trace.json for ui.perfetto.dev into ``out``.
        set: hardware-config overrides, e.g. ``{"sram.banks": 64}``.

    Returns:
        A :class:`RunResult`.

    Raises:
        ConfigError: bad input (the message names file, key and reason).
        SimulationError: the simulation failed.
    """
    options = dict(locals())
    overrides = options.pop("set")
    return RunResult(_native.run(_arguments(options, overrides)))


class Compiled:
    """What the compiler makes of a workload and dataflow (``flatsim compile``).

    Each attribute compiles on first use: ``loops`` (the loop nest, text),
    ``isa`` (the instruction streams, text; large for long sequences),
    ``footprint`` (DataFrame; every candidate plan, ranked, with mapping="auto"),
    ``summary`` (DataFrame: instruction counts per unit, planned DRAM bytes).
    """

    def __init__(self, args: list[str]) -> None:
        self._args = args
        self._emitted: dict[str, str] = {}

    def emit(self, what: str) -> str:
        """The text ``flatsim compile --emit WHAT`` prints (isa, loops, footprint, summary)."""
        if what not in self._emitted:
            self._emitted[what] = _native.compile(self._args + ["--emit", what])
        return self._emitted[what]

    @property
    def loops(self) -> str:
        return self.emit("loops")

    @property
    def isa(self) -> str:
        return self.emit("isa")

    @property
    def footprint(self) -> pd.DataFrame:
        return _frame(self.emit("footprint"))

    @property
    def summary(self) -> pd.DataFrame:
        return _frame(self.emit("summary"))

    def __repr__(self) -> str:
        return f"<flatsim.Compiled {' '.join(self._args)}>"


def compile(
    hw: PathLike,
    workload: PathLike,
    dataflow: str,
    *,
    batch: int | None = None,
    seq_len: int | None = None,
    kv_heads: int | None = None,
    mask: str | None = None,
    window: int | str | None = None,
    phase: str | None = None,
    query_len: int | None = None,
    kv_len: int | None = None,
    gran: str | None = None,
    rows: int | None = None,
    cols: int | None = None,
    mapping: str | None = None,
    spill: bool | None = None,
    set: Overrides | None = None,
) -> Compiled:
    """Compile without simulating, as ``flatsim compile``; arguments as for :func:`run`.

    The inputs are checked at once (raising :class:`ConfigError`); the outputs
    are compiled when first read.
    """
    options = dict(locals())
    overrides = options.pop("set")
    compiled = Compiled(_arguments(options, overrides))
    compiled.emit("summary")
    return compiled


@dataclass(frozen=True)
class GemmResult:
    """A GEMM on the PE array: summary.csv's row and the line ``flatsim gemm`` prints."""

    summary: dict[str, Scalar | None]
    description: str


def gemm(
    hw: PathLike,
    m: int,
    k: int,
    n: int,
    *,
    pe_dataflow: str | None = None,
    max_cycles: int | None = None,
    set: Overrides | None = None,
) -> GemmResult:
    """Time one M×K·K×N GEMM on the PE array, as ``flatsim gemm``.

    ``pe_dataflow`` is os, ws or is (default: the config's ``pe_array.dataflow``);
    ``max_cycles`` refuses a GEMM whose time exceeds it.
    """
    options = dict(locals())
    overrides = options.pop("set")
    summary_csv, description = _native.gemm(_arguments(options, overrides))
    return GemmResult(_record(summary_csv), description)


@dataclass(frozen=True)
class DramResult:
    """A replayed DRAM trace: dram.csv's row and the report ``flatsim dram`` prints."""

    summary: dict[str, Scalar | None]
    description: str


def dram_replay(
    hw: PathLike,
    trace: PathLike,
    *,
    max_outstanding: int | None = None,
    command_trace: PathLike | None = None,
    set: Overrides | None = None,
) -> DramResult:
    """Replay an ``addr,is_write`` CSV trace on the configured DRAM, as ``flatsim dram``.

    Args:
        max_outstanding: reads in flight at most (default: unlimited).
        command_trace: write every DRAM command to this CSV file (cycle-level DRAM only).
    """
    options = dict(locals())
    overrides = options.pop("set")
    dram_csv, description = _native.dram(_arguments(options, overrides))
    return DramResult(_record(dram_csv), description)


class SweepError(SimulationError):
    """Some points of a sweep failed. ``results`` holds the finished points,
    ``failures`` the failed ones with their error (as failures.csv)."""

    def __init__(self, message: str, results: pd.DataFrame, failures: pd.DataFrame) -> None:
        super().__init__(message)
        self.results = results
        self.failures = failures


def _toml_value(value: Any) -> str:
    """A TOML value: JSON's strings, numbers, booleans and arrays are TOML's too."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"sweep: {value} is not a number a sweep can take")
    if not isinstance(value, (str, int, float, bool)):
        raise ConfigError(f"sweep: {value!r} is not a string, number, boolean or list of them")
    return json.dumps(value)


def _toml_table(name: str, entries: Mapping[str, Any]) -> str:
    lines = [f"[{name}]"] if name else []
    lines += [f"{json.dumps(key)} = {_toml_value(value)}" for key, value in entries.items()]
    return "\n".join(lines) + "\n"


def _absolute_files(entries: Mapping[str, Any]) -> dict[str, Any]:
    """hw and workload files as absolute paths: the sweep file resolves
    relative ones against its own directory, a temporary one here."""

    def absolute(value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return [absolute(v) for v in value]
        if isinstance(value, (str, os.PathLike)) and Path(value).is_file():
            return str(Path(value).resolve())
        return value

    return {k: absolute(v) if k in ("hw", "workload") else v for k, v in entries.items()}


def sweep_text(
    axes: Mapping[str, Sequence[Scalar]],
    base: Mapping[str, Any] | None = None,
    *,
    skip: Iterable[Mapping[str, Scalar | Sequence[Scalar]]] = (),
    command: str = "run",
) -> str:
    """The sweep file (TOML) that :func:`sweep` runs; see configs/sweeps/ and docs/python.md."""
    base = dict(base or {})
    base_set = base.pop("set", {})
    text = _toml_table("", {"version": 1, "command": command})
    text += _toml_table("base", _absolute_files(base))
    if base_set:
        text += _toml_table("base.set", base_set)
    text += _toml_table("axes", _absolute_files(axes))
    for rule in skip:
        text += "[[skip]]\n" + _toml_table("", _absolute_files(rule))
    return text


def _progress_callback(progress: Progress, total: int) -> tuple[Callable[[], object] | None, Any]:
    """The per-point callback and the bar to close (tqdm: a widget in Jupyter, text elsewhere)."""
    if callable(progress):
        return progress, None
    if not progress:
        return None, None
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc="flatsim sweep", unit="point")
    return (lambda: bar.update(1)), bar


def sweep_file(
    path: PathLike,
    *,
    out: PathLike | None = None,
    jobs: int | None = None,
    set: Overrides | None = None,
    progress: Progress = True,
) -> pd.DataFrame:
    """Run every point of a sweep file, as ``flatsim sweep FILE --out DIR``.

    Points run in parallel in Rust on ``jobs`` threads (default: all cores).
    With ``out``, results go to ``out/summary.csv`` as the command line writes
    them, and a rerun resumes there; without it, a temporary directory is used.
    ``progress``: True shows a progress bar (tqdm), False none, a callable is
    called as each point ends.

    Returns:
        summary.csv as a DataFrame: one row per point, in point order.

    Raises:
        ConfigError: a bad sweep file or parameter.
        SweepError: some points failed (its ``results`` and ``failures``).
    """
    total = _native.sweep_point_count(os.fspath(path))
    on_point, bar = _progress_callback(progress, total)
    with tempfile.TemporaryDirectory(prefix="flatsim-sweep-") as scratch:
        out_dir = os.fspath(out) if out is not None else os.path.join(scratch, "out")
        args = [os.fspath(path), "--out", out_dir] + _arguments({"jobs": jobs}, set)
        try:
            points, succeeded, skipped, failed, results_dir = _native.sweep(args, on_point)
        finally:
            if bar is not None:
                bar.close()
        results = pd.read_csv(Path(results_dir) / "summary.csv")
        if failed:
            failures = pd.read_csv(Path(results_dir) / "failures.csv")
            errors = "; ".join(f"point {p}: {e}" for p, e in zip(failures["point"], failures["error"]))
            raise SweepError(
                f"{failed} of {points} points failed: {errors}", results, failures
            )
    return results


def sweep(
    axes: Mapping[str, Sequence[Scalar]],
    base: Mapping[str, Any] | None = None,
    *,
    skip: Iterable[Mapping[str, Scalar | Sequence[Scalar]]] = (),
    command: str = "run",
    out: PathLike | None = None,
    jobs: int | None = None,
    set: Overrides | None = None,
    progress: Progress = True,
) -> pd.DataFrame:
    """Run the cartesian product of ``axes`` (first axis slowest) in parallel.

    The same as a sweep file (:func:`sweep_text` writes it) given to :func:`sweep_file`:

    Args:
        axes: parameter → values, e.g. ``{"seq_len": [512, 1024], "dataflow":
            ["flat", "flash"]}``; parameters are :func:`run`'s (or, with
            ``command="gemm"``, :func:`gemm`'s) keywords; a dotted key
            (``"sram.banks"``) is a hardware-config override.
        base: parameters of every point, e.g. ``{"hw": "edge", "workload":
            "bert"}``; ``base["set"]`` holds hardware-config overrides.
        skip: rules leaving out the points that match every key of one rule,
            e.g. ``[{"dataflow": "flash", "seq_len": [512]}]``.
        out, jobs, set, progress: as for :func:`sweep_file`.

    Returns:
        One row per point: its index, the axes that are not summary columns,
        then summary.csv's columns.
    """
    with tempfile.TemporaryDirectory(prefix="flatsim-sweep-") as scratch:
        path = Path(scratch) / "flatsim-sweep.toml"
        path.write_text(sweep_text(axes, base, skip=skip, command=command))
        return sweep_file(path, out=out, jobs=jobs, set=set, progress=progress)
