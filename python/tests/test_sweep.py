"""flatsim.sweep runs the command line's sweep: same points, same CSV."""

import pandas as pd
import pytest

import flatsim

AXES = {"dataflow": ["unfused", "flat", "flash"], "seq_len": [128, 256, 512]}
BASE = {"hw": "edge", "workload": "bert", "batch": 1, "set": {"vector.ideal": True}}


def test_a_nine_point_sweep_runs_in_parallel_with_progress_and_equals_the_cli(cli, tmp_path):
    ends = []
    frame = flatsim.sweep(AXES, BASE, jobs=2, out=tmp_path / "py", progress=lambda: ends.append(1))
    assert len(ends) == 9
    assert list(frame["point"]) == list(range(9))
    assert list(frame["dataflow"]) == ["unfused"] * 3 + ["flat"] * 3 + ["flash"] * 3
    assert (frame["cycles"] > 0).all()

    spec = tmp_path / "nine.toml"
    spec.write_text(flatsim.sweep_text(AXES, BASE))
    done = cli("sweep", str(spec), "--out", str(tmp_path / "cli"), "--jobs", "2")
    assert done.returncode == 0, done.stderr
    expected = (tmp_path / "cli" / "summary.csv").read_text()
    assert (tmp_path / "py" / "summary.csv").read_text() == expected
    pd.testing.assert_frame_equal(frame, pd.read_csv(tmp_path / "cli" / "summary.csv"))


def test_the_default_progress_bar_counts_the_points(capsys):
    frame = flatsim.sweep({"seq_len": [64, 128]}, {"hw": "edge", "workload": "bert", "dataflow": "flash"}, jobs=2)
    assert len(frame) == 2
    assert "2/2" in capsys.readouterr().err


def test_a_rerun_into_the_same_directory_resumes(tmp_path):
    first = flatsim.sweep({"seq_len": [64, 128]}, {"hw": "edge", "workload": "bert", "dataflow": "flat"}, out=tmp_path, progress=False)
    ends = []
    again = flatsim.sweep({"seq_len": [64, 128]}, {"hw": "edge", "workload": "bert", "dataflow": "flat"}, out=tmp_path, progress=lambda: ends.append(1))
    assert ends == []
    pd.testing.assert_frame_equal(first, again)


def test_failed_points_raise_sweep_error_with_the_finished_ones():
    axes = {"sram.capacity_bytes": [4096, 1048576]}
    with pytest.raises(flatsim.SweepError) as caught:
        flatsim.sweep(axes, {"hw": "edge", "workload": "bert", "dataflow": "flash", "seq_len": 128}, progress=False)
    err = caught.value
    assert isinstance(err, flatsim.SimulationError)
    assert list(err.results["point"]) == [1]
    assert list(err.failures["point"]) == [0]
    assert "no flash plan fits" in str(err)


def test_gemm_sweeps_and_sweep_files():
    frame = flatsim.sweep({"m": [64, 128]}, {"hw": "edge", "k": 64, "n": 64}, command="gemm", progress=False)
    assert list(frame["dataflow"]) == ["gemm-os", "gemm-os"]
    assert frame["cycles"].iloc[1] > frame["cycles"].iloc[0]


def test_a_bad_sweep_parameter_raises_config_error_naming_the_key():
    with pytest.raises(flatsim.ConfigError, match="seq_lenn"):
        flatsim.sweep({"seq_lenn": [64]}, {"hw": "edge", "workload": "bert", "dataflow": "flash"}, progress=False)
    with pytest.raises(flatsim.ConfigError, match="not a string, number"):
        flatsim.sweep({"seq_len": [{}]}, {"hw": "edge"}, progress=False)
