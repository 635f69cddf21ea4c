"""PE utilization vs sequence length, per platform and model (docs/figures/util_vs_n_*.png)."""
import matplotlib.pyplot as plt
import pandas as pd

from flatsim_plots import arguments, load, save, style

# Each figure: its sweep, a title, and sweeps that extend it to longer sequences.
SWEEPS = {
    "flat-edge": ("FLAT accounting, edge", ["edge-long"]),
    "flat-cloud": ("FLAT accounting, cloud", []),
    "fusemax-cloud": ("FuseMax accounting, cloud", []),
}


def main():
    args = arguments(__doc__)
    for sweep, (title, extensions) in SWEEPS.items():
        frame = load(args.data, sweep)
        if frame is None:
            continue
        extra = [load(args.data, name) for name in extensions]
        frame = pd.concat([frame] + [e for e in extra if e is not None], ignore_index=True)
        workloads = sorted(frame["workload"].unique())
        fig, axes = plt.subplots(1, len(workloads), figsize=(4 * len(workloads), 3.4), sharey=True, squeeze=False)
        for ax, workload in zip(axes[0], workloads):
            for name, group in frame[frame["workload"] == workload].groupby("label"):
                group = group.sort_values("seq_len")
                color, marker = style(name)
                ax.plot(group["seq_len"], group["pe_util"], marker=marker, color=color, label=name)
            ax.set_xscale("log", base=2)
            ax.set_ylim(0, 1.05)
            ax.set_title(workload)
            ax.set_xlabel("sequence length N")
            ax.grid(alpha=0.3)
        axes[0][0].set_ylabel("PE utilization")
        axes[0][-1].legend(fontsize=8)
        fig.suptitle(title)
        save(fig, args.out, f"util_vs_n_{sweep}")


if __name__ == "__main__":
    main()
