"""DRAM traffic vs sequence length per dataflow (docs/figures/dram_traffic_*.png)."""
import matplotlib.pyplot as plt

from flatsim_plots import arguments, load, save, style

SWEEPS = ["flat-edge", "flat-cloud"]


def main():
    args = arguments(__doc__)
    for sweep in SWEEPS:
        frame = load(args.data, sweep)
        if frame is None:
            continue
        fig, ax = plt.subplots(figsize=(5.5, 3.6))
        for name, group in frame.groupby("label"):
            group = group.groupby("seq_len")["dram_bytes"].mean()
            color, marker = style(name)
            ax.plot(group.index, group.values / 1e6, marker=marker, color=color, label=name)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("sequence length N")
        ax.set_ylabel("DRAM traffic (MB), mean over models")
        ax.set_title(sweep)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        save(fig, args.out, f"dram_traffic_{sweep}")


if __name__ == "__main__":
    main()
