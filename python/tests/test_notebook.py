"""docs/notebooks/quickstart.ipynb runs headless, its 9-point sweep with a progress bar."""

import nbclient
import nbformat

from conftest import ROOT

NOTEBOOK = ROOT / "docs" / "notebooks" / "quickstart.ipynb"


def test_the_quickstart_notebook_executes(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()  # raises CellExecutionError on any failing cell

    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 3  # cycles vs N, stall breakdown, timeline

    # The sweep's progress bar (a tqdm widget) ended at 9 of 9 points.
    state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    bars = [m["state"] for m in state.values() if m["model_name"] == "FloatProgressModel"]
    assert [(b["value"], b["max"]) for b in bars] == [(9, 9)]
    # ... and its table has one row per point.
    sweep_cell = next(c for c in notebook.cells if c.source.startswith("sweep = flatsim.sweep("))
    table = next(o for o in sweep_cell.outputs if o["output_type"] == "execute_result")
    assert len(table["data"]["text/plain"].splitlines()) == 1 + 9
