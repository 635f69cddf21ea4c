"""Speedup over the unfused (naive) dataflow vs sequence length (docs/figures/speedup_*.png)."""
import matplotlib.pyplot as plt

from flatsim_plots import arguments, load, save, style

SWEEPS = ["flat-edge", "flat-cloud", "fusemax-cloud"]


def main():
    args = arguments(__doc__)
    for sweep in SWEEPS:
        frame = load(args.data, sweep)
        if frame is None:
            continue
        base = frame[frame["label"] == "unfused (naive)"][["workload", "seq_len", "cycles"]]
        rows = frame[frame["label"] != "unfused (naive)"].merge(base, on=["workload", "seq_len"], suffixes=("", "_naive"))
        rows["speedup"] = rows["cycles_naive"] / rows["cycles"]
        fig, ax = plt.subplots(figsize=(5.5, 3.6))
        for name, group in rows.groupby("label"):
            mean = group.groupby("seq_len")["speedup"].mean()
            color, marker = style(name)
            ax.plot(mean.index, mean.values, marker=marker, color=color, label=name)
        ax.axhline(1.0, color="gray", linewidth=0.8)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("sequence length N")
        ax.set_ylabel("speedup over unfused (naive), mean over models")
        ax.set_title(sweep)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        save(fig, args.out, f"speedup_{sweep}")


if __name__ == "__main__":
    main()
