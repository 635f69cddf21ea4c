//! `flatsim._native`: the Python package's bridge to the command line's own
//! code (`cli::embed`). Every function takes a subcommand's arguments as on
//! the command line; `flatsim/__init__.py` builds them from keywords.
//!
//! At this boundary the GIL is released while flatsim works, bad input
//! becomes `ConfigError` (a `ValueError`) with the CLI's message, a failed
//! simulation `SimulationError`, and a panic `SimulationError` too instead
//! of unwinding into the interpreter.

use cli::error::CliError;
use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Mutex;

create_exception!(
    flatsim,
    ConfigError,
    PyValueError,
    "Bad input: a config, workload, sweep or trace file, a key or a flag value. The message names the file, the key and the reason, as the CLI's (which exits 2)."
);
create_exception!(
    flatsim,
    SimulationError,
    PyRuntimeError,
    "A simulation failed (the CLI exits 1), or flatsim hit an internal error."
);

/// Runs `work` without the GIL, turning its error or panic into the Python exception.
fn call<T: Send>(py: Python<'_>, work: impl FnOnce() -> Result<T, CliError> + Send) -> PyResult<T> {
    let result = py.detach(|| catch_unwind(AssertUnwindSafe(work)));
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err @ CliError::BadInput(_))) => Err(ConfigError::new_err(format!("{err:#}"))),
        Ok(Err(err @ CliError::Failure(_))) => Err(SimulationError::new_err(format!("{err:#}"))),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            Err(SimulationError::new_err(format!(
                "internal error (a bug in flatsim; please report it): {message}"
            )))
        }
    }
}

fn text(bytes: Vec<u8>) -> Result<String, CliError> {
    String::from_utf8(bytes).map_err(CliError::failure)
}

/// `flatsim run ARGS…` → {"files": {name: text}, "plan_label", "loop_nest",
/// "tried": [(label, cycles, finished)]}.
#[pyfunction]
fn run<'py>(py: Python<'py>, args: Vec<String>) -> PyResult<Bound<'py, PyDict>> {
    let output = call(py, || cli::embed::run(&args))?;
    let files = PyDict::new(py);
    for (name, bytes) in output.files {
        files.set_item(name, String::from_utf8_lossy(&bytes))?;
    }
    let tried: Vec<(String, u64, bool)> = output
        .tried
        .into_iter()
        .map(|t| (t.label, t.cycles, t.finished))
        .collect();
    let result = PyDict::new(py);
    result.set_item("files", files)?;
    result.set_item("plan_label", output.plan_label)?;
    result.set_item("loop_nest", output.loop_nest)?;
    result.set_item("tried", tried)?;
    Ok(result)
}

/// `flatsim compile ARGS…` → what it prints.
#[pyfunction]
fn compile(py: Python<'_>, args: Vec<String>) -> PyResult<String> {
    call(py, || cli::embed::compile(&args))
}

/// `flatsim gemm ARGS…` → (summary.csv, the line it prints).
#[pyfunction]
fn gemm(py: Python<'_>, args: Vec<String>) -> PyResult<(String, String)> {
    call(py, || {
        let (csv, description) = cli::embed::gemm(&args)?;
        Ok((text(csv)?, description))
    })
}

/// `flatsim dram ARGS…` → (dram.csv, what it prints).
#[pyfunction]
fn dram(py: Python<'_>, args: Vec<String>) -> PyResult<(String, String)> {
    call(py, || {
        let (csv, description) = cli::embed::dram(&args)?;
        Ok((text(csv)?, description))
    })
}

/// Points of a sweep file.
#[pyfunction]
fn sweep_point_count(py: Python<'_>, path: PathBuf) -> PyResult<usize> {
    call(py, || cli::embed::sweep_point_count(&path))
}

/// `flatsim sweep ARGS…` (FILE --out DIR [--jobs J] [--set …]) in parallel;
/// `on_point()` is called (with the GIL) as each point ends. → (points,
/// succeeded, skipped, failed, results directory). An exception raised by
/// `on_point` is raised once the sweep has finished.
#[pyfunction]
#[pyo3(signature = (args, on_point=None))]
fn sweep(
    py: Python<'_>,
    args: Vec<String>,
    on_point: Option<Py<PyAny>>,
) -> PyResult<(usize, usize, usize, usize, PathBuf)> {
    let callback_error: Mutex<Option<PyErr>> = Mutex::new(None);
    let tick = || {
        if let Some(callback) = &on_point {
            Python::attach(|py| {
                if let Err(err) = callback.call0(py) {
                    let mut first = callback_error.lock().unwrap_or_else(|e| e.into_inner());
                    first.get_or_insert(err);
                }
            });
        }
    };
    let local = call(py, || cli::embed::sweep(&args, &tick))?;
    if let Some(err) = callback_error
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
    {
        return Err(err);
    }
    let o = local.outcome;
    Ok((local.points, o.succeeded, o.skipped, o.failed, local.dir))
}

/// The long option names of a subcommand, and the global `set`.
#[pyfunction]
fn option_names(command: &str) -> PyResult<Vec<String>> {
    cli::embed::option_names(command)
        .ok_or_else(|| PyValueError::new_err(format!("no subcommand `{command}`")))
}

/// Panics inside the boundary, to test that a panic becomes `SimulationError`.
#[pyfunction]
fn _panic(py: Python<'_>, message: String) -> PyResult<()> {
    call(py, || -> Result<(), CliError> { panic!("{message}") })
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("SimulationError", py.get_type::<SimulationError>())?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(compile, m)?)?;
    m.add_function(wrap_pyfunction!(gemm, m)?)?;
    m.add_function(wrap_pyfunction!(dram, m)?)?;
    m.add_function(wrap_pyfunction!(sweep_point_count, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(option_names, m)?)?;
    m.add_function(wrap_pyfunction!(_panic, m)?)?;
    Ok(())
}
