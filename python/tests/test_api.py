"""flatsim.run, compile, gemm and dram_replay give what the command line gives."""

import inspect
import threading
import time

import pytest

import flatsim
from conftest import ROOT

# (keywords of flatsim.run, the same run's command-line arguments)
RUNS = [
    (dict(hw="edge", workload="bert", dataflow="unfused", seq_len=256),
     ["--hw", "edge", "--workload", "bert", "--dataflow", "unfused", "--seq-len", "256"]),
    (dict(hw="edge", workload="bert", dataflow="flat", seq_len=512, gran="r", rows=32),
     ["--hw", "edge", "--workload", "bert", "--dataflow", "flat", "--seq-len", "512", "--gran", "r", "--rows", "32"]),
    (dict(hw="edge", workload="t5", dataflow="flat", seq_len=256, gran="h", set={"vector.ideal": True}),
     ["--hw", "edge", "--workload", "t5", "--dataflow", "flat", "--seq-len", "256", "--gran", "h", "--set", "vector.ideal=true"]),
    (dict(hw="edge", workload="bert", dataflow="flash", seq_len=512, mapping="auto", epoch_cycles=5000),
     ["--hw", "edge", "--workload", "bert", "--dataflow", "flash", "--seq-len", "512", "--mapping", "auto", "--epoch-cycles", "5000"]),
    (dict(hw="edge-cycle", workload="bert", dataflow="flash", seq_len=256, batch=2),
     ["--hw", "edge-cycle", "--workload", "bert", "--dataflow", "flash", "--seq-len", "256", "--batch", "2"]),
    (dict(hw="edge", workload="llama3-8b", dataflow="flash", seq_len=128, mask="none", kv_heads=32),
     ["--hw", "edge", "--workload", "llama3-8b", "--dataflow", "flash", "--seq-len", "128", "--mask", "none", "--kv-heads", "32"]),
    (dict(hw="edge", workload="bert", dataflow="flat", seq_len=128, functional=True, seed=7, set={"sram.banks": 64}),
     ["--hw", "edge", "--workload", "bert", "--dataflow", "flat", "--seq-len", "128", "--functional", "--seed", "7", "--set", "sram.banks=64"]),
]

OUTPUT_FILES = ["summary.csv", "stats.csv", "timeline.csv", "config.resolved.toml"]


@pytest.mark.parametrize("keywords,args", RUNS, ids=lambda x: x.get("dataflow") if isinstance(x, dict) else None)
def test_run_gives_the_cli_s_files_byte_for_byte(keywords, args, cli, tmp_path):
    result = flatsim.run(**keywords, out=tmp_path / "py")
    done = cli("run", *args, "--out", str(tmp_path / "cli"))
    assert done.returncode == 0, done.stderr
    for name in OUTPUT_FILES:
        expected = (tmp_path / "cli" / name).read_text()
        assert result.files[name] == expected, name
        assert (tmp_path / "py" / name).read_text() == expected, name
    assert f"{result.summary['cycles']} cycles" in done.stdout
    assert result.plan.label in done.stdout
    # Without `out` the run goes through a private directory, same bytes.
    assert flatsim.run(**keywords).files == result.files


def test_the_result_s_tables_agree_with_each_other():
    r = flatsim.run("edge", "bert", "flash", seq_len=512, functional=True)
    cycles = r.summary["cycles"]
    assert isinstance(cycles, int) and cycles > 0
    assert r.timeline["cycle_end"].iloc[-1] == cycles
    pe = r.stats[r.stats["unit"] == "pe_array"].set_index("stat")["value"]
    assert pe["total_cycles"] == cycles
    assert r.summary["max_abs_error"] is not None and r.summary["max_abs_error"] < 1e-2
    assert r.summary["gran"] is None
    assert "[pe_array]" in r.config
    assert str(r.plan).startswith(r.plan.label + "\n")
    assert "for b in" in r.plan.loop_nest


def test_auto_mapping_lists_the_simulated_candidates():
    r = flatsim.run("edge", "bert", "flash", seq_len=512, mapping="auto", candidates=2)
    assert 1 <= len(r.plan.candidates) <= 2
    best = min(c.cycles for c in r.plan.candidates if c.finished)
    assert best == r.summary["cycles"]


def _keywords(function) -> set:
    return {p for p in inspect.signature(function).parameters}


@pytest.mark.parametrize(
    "command,function,left_out",
    [
        ("run", flatsim.run, set()),
        ("compile", flatsim.compile, {"emit"}),  # Compiled has one attribute per --emit
        ("gemm", flatsim.gemm, {"out", "force"}),  # results are returned, not written
        ("dram", flatsim.dram_replay, {"out", "force"}),
    ],
)
def test_every_cli_option_has_a_keyword(command, function, left_out):
    options = {name.replace("-", "_") for name in flatsim._native.option_names(command)}
    assert _keywords(function) == options - left_out


def test_compile_prints_what_the_cli_prints(cli):
    c = flatsim.compile("edge", "bert", "flat", seq_len=512, mapping="auto")
    args = ["compile", "--hw", "edge", "--workload", "bert", "--dataflow", "flat", "--seq-len", "512", "--mapping", "auto"]
    for emit in ["loops", "isa", "footprint", "summary"]:
        done = cli(*args, "--emit", emit)
        assert done.returncode == 0, done.stderr
        assert c.emit(emit) == done.stdout, emit
    assert c.loops == c.emit("loops")
    assert len(c.footprint) == done_rows(cli(*args, "--emit", "footprint").stdout)
    assert "dram_read_bytes" in c.summary.columns or len(c.summary) > 0


def done_rows(csv_text: str) -> int:
    return len(csv_text.strip().splitlines()) - 1


def test_gemm_and_dram_replay_match_the_cli(cli, tmp_path):
    g = flatsim.gemm("edge", 512, 64, 512, pe_dataflow="ws")
    done = cli("gemm", "--hw", "edge", "--m", "512", "--k", "64", "--n", "512", "--pe-dataflow", "ws", "--out", str(tmp_path / "g"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == g.description
    assert g.summary == flatsim._record((tmp_path / "g" / "summary.csv").read_text())

    trace = str(ROOT / "traces" / "examples" / "seq.csv")
    d = flatsim.dram_replay("edge-cycle", trace, max_outstanding=4)
    done = cli("dram", "--hw", "edge-cycle", "--trace", trace, "--max-outstanding", "4", "--out", str(tmp_path / "d"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == d.description
    assert d.summary == flatsim._record((tmp_path / "d" / "dram.csv").read_text())


def test_a_malformed_config_raises_config_error_naming_file_key_and_reason(cli, tmp_path):
    bad = tmp_path / "bad.toml"
    text = (ROOT / "configs" / "hw" / "edge.toml").read_text()
    lines = text.splitlines()
    line = next(i for i, l in enumerate(lines) if l.startswith("banks ="))
    lines[line] = 'banks = "many"'
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(flatsim.ConfigError) as caught:
        flatsim.run(bad, "bert", "flash", seq_len=256)
    message = str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert f"{bad}:{line + 1}" in message
    assert "sram.banks" in message
    assert "expected an integer" in message
    done = cli("run", "--hw", str(bad), "--workload", "bert", "--dataflow", "flash", "--seq-len", "256")
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: {message}"


@pytest.mark.parametrize(
    "call,words",
    [
        (lambda: flatsim.run("edge", "bert", "flsh"), ["--dataflow", "flsh"]),
        (lambda: flatsim.run("edge", "nope", "flash"), ["nope"]),
        (lambda: flatsim.run("edge", "bert", "flash", set={"sram.bankz": 4}), ["sram.bankz"]),
        (lambda: flatsim.run("edge", "bert", "flash", seq_len=256, set={"sram.capacity_bytes": 4096}), ["no flash plan fits", "sram.capacity_bytes"]),
        (lambda: flatsim.gemm("edge", 0, 64, 64), ["--m", "positive"]),
        (lambda: flatsim.dram_replay("edge-cycle", "no/such.csv"), ["no/such.csv"]),
        (lambda: flatsim.compile("edge", "bert", "flat", gran="q"), ["--gran"]),
    ],
)
def test_bad_input_raises_config_error(call, words):
    with pytest.raises(flatsim.ConfigError) as caught:
        call()
    for word in words:
        assert word in str(caught.value)


def test_a_panic_becomes_simulation_error_and_the_interpreter_goes_on():
    with pytest.raises(flatsim.SimulationError, match="internal error.*boom"):
        flatsim._native._panic("boom")
    assert flatsim.run("edge", "bert", "flash", seq_len=128).summary["cycles"] > 0


def test_the_gil_is_released_while_simulating():
    ticks = 0
    worker = threading.Thread(target=lambda: flatsim.run("edge", "bert", "unfused", seq_len=1024))
    started = time.perf_counter()
    worker.start()
    while worker.is_alive():
        ticks += 1
        time.sleep(0.001)
    elapsed = time.perf_counter() - started
    # Holding the GIL, the run would let this loop go round about once.
    assert elapsed > 0.05, "the run is too short to tell"
    assert ticks > 10, (ticks, elapsed)


def test_stubs_and_docstrings_cover_the_native_module():
    import ast

    stub = ast.parse((ROOT / "python" / "flatsim" / "_native.pyi").read_text())
    stubbed = {n.name for n in stub.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    native = {n for n in dir(flatsim._native) if not n.startswith("__")}
    assert stubbed == native
    for name in flatsim.__all__:
        assert getattr(flatsim, name).__doc__, name
