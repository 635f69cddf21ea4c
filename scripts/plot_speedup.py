"""Speedup over unfused (naive, or flex where a sweep has no naive runs) vs sequence length,
geometric mean over the models run at each N (docs/figures/speedup_*.png)."""
import matplotlib.pyplot as plt

from flatsim_plots import arguments, load, save, style

SWEEPS = ["flat-edge", "flat-cloud", "fusemax-cloud"]


def main():
    args = arguments(__doc__)
    for sweep in SWEEPS:
        frame = load(args.data, sweep)
        if frame is None:
            continue
        # FLAT's baseline is Naive; a sweep that only searches tilings compares with FLEX.
        baseline = "unfused (naive)" if (frame["label"] == "unfused (naive)").any() else "unfused (flex)"
        base = frame[frame["label"] == baseline][["workload", "seq_len", "cycles"]]
        rows = frame[frame["label"] != baseline].merge(base, on=["workload", "seq_len"], suffixes=("", "_base"))
        rows["speedup"] = rows["cycles_base"] / rows["cycles"]
        fig, ax = plt.subplots(figsize=(5.5, 3.6))
        for name, group in rows.groupby("label"):
            mean = group.groupby("seq_len")["speedup"].apply(lambda s: s.prod() ** (1 / len(s)))
            color, marker = style(name)
            ax.plot(mean.index, mean.values, marker=marker, color=color, label=name)
        ax.axhline(1.0, color="gray", linewidth=0.8)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("sequence length N")
        ax.set_ylabel(f"speedup over {baseline}\n(geomean over models)")
        ax.set_title(sweep)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        save(fig, args.out, f"speedup_{sweep}")


if __name__ == "__main__":
    main()
