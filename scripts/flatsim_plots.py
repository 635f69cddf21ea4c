"""Shared helpers of the plot scripts: reading sweep CSVs and saving figures."""
import argparse
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

# The same dataflow gets the same color and marker in every figure.
STYLE = {
    "unfused (naive)": ("tab:gray", "s"),
    "unfused (flex)": ("tab:blue", "^"),
    "flat": ("tab:red", "o"),
    "flat (fixed tile)": ("lightcoral", "o"),
    "flash": ("tab:green", "D"),
    "flash (fixed tile)": ("lightgreen", "D"),
}


def arguments(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", type=pathlib.Path, default=pathlib.Path("docs/data"), help="directory of sweep CSVs")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("docs/figures"), help="directory for PNGs")
    return parser.parse_args()


def load(data_dir, name):
    """A sweep's summary.csv as a DataFrame with a `label` per dataflow and mapping, or None when absent."""
    path = data_dir / f"{name}.csv"
    if not path.exists():
        print(f"skip: {path} not found (run scripts/run-sweeps.sh {name})")
        return None
    frame = pd.read_csv(path)
    frame["label"] = frame.apply(label, axis=1)
    frame["dram_bytes"] = frame["dram_read_bytes"] + frame["dram_write_bytes"]
    return frame


def label(row):
    """Naive = unfused with a fixed tiling, FLEX = unfused with the searched tiling (FLAT's terms);
    flat and flash are named plainly with the searched mapping."""
    searched = row.get("mapping", "auto") == "auto"
    if row["dataflow"] == "unfused":
        return "unfused (flex)" if searched else "unfused (naive)"
    return row["dataflow"] if searched else f"{row['dataflow']} (fixed tile)"


def style(name):
    return STYLE.get(name, ("black", "x"))


def save(fig, out_dir, name):
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.png"
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path}")
