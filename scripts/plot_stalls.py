"""Where the PE array's cycles go, per dataflow and N (docs/figures/stalls_*.png)."""
import matplotlib.pyplot as plt

from flatsim_plots import arguments, load, save

SWEEPS = ["flat-edge", "flat-cloud", "fusemax-cloud"]
PARTS = [
    ("busy (useful)", None, "tab:green"),
    ("wait_token", "stall_wait_token", "tab:orange"),
    ("sram_bank_conflict", "stall_sram_bank_conflict", "tab:purple"),
    ("dram", "stall_dram", "tab:red"),
    ("other", "stall_other", "tab:gray"),
    # summary.csv has no busy or idle column: what is left of the cycles is
    # the array busy without useful MACs (fold fill and drain) or idle.
    ("fill/drain or idle (the rest)", "rest", "lightgray"),
]


def main():
    args = arguments(__doc__)
    for sweep in SWEEPS:
        frame = load(args.data, sweep)
        if frame is None:
            continue
        frame = frame[frame["workload"] == sorted(frame["workload"].unique())[0]]
        rows = frame.sort_values(["label", "seq_len"])
        names = [f"{r.label}\nN={r.seq_len}" for r in rows.itertuples()]
        fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(names)), 4))
        bottom = [0.0] * len(rows)
        for title, column, color in PARTS:
            if column is None:
                values = list(rows["pe_util"])
            elif column == "rest":
                stalls = sum(rows[c] for _, c, _ in PARTS if c not in (None, "rest"))
                values = list(1.0 - rows["pe_util"] - stalls / rows["cycles"])
            else:
                values = list(rows[column] / rows["cycles"])
            ax.bar(range(len(rows)), values, bottom=bottom, color=color, label=title)
            bottom = [b + v for b, v in zip(bottom, values)]
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels(names, rotation=90, fontsize=7)
        ax.set_ylabel("fraction of PE-array cycles")
        ax.set_title(f"{sweep}: {rows['workload'].iloc[0]}")
        ax.set_ylim(0, 1.0)
        ax.legend(fontsize=7, loc="lower left")
        save(fig, args.out, f"stalls_{sweep}")


if __name__ == "__main__":
    main()
