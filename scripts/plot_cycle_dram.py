"""PE utilization with cycle-level DRAM (solid) vs the bandwidth-only model (dashed),
per platform and accounting, BERT (docs/figures/cycle_dram.png)."""
import matplotlib.pyplot as plt

from flatsim_plots import arguments, load, save, style

# (cycle-DRAM preset, vector.ideal) -> the bandwidth-model sweep of the same platform and accounting.
PANELS = [
    ("edge-cycle", True, "flat-edge", "edge, FLAT accounting"),
    ("edge-cycle", False, None, "edge, real softmax"),
    ("cloud-cycle", True, "flat-cloud", "cloud, FLAT accounting"),
    ("cloud-cycle", False, "fusemax-cloud", "cloud, FuseMax accounting"),
]


def main():
    args = arguments(__doc__)
    cycle = load(args.data, "cycle-dram")
    if cycle is None:
        return
    fig, axes = plt.subplots(2, 2, figsize=(9, 6.5), sharey=True)
    for ax, (hw, ideal, bandwidth_sweep, title) in zip(axes.flat, PANELS):
        rows = cycle[(cycle["hw"] == hw) & (cycle["vector.ideal"] == ideal)]
        for name, group in rows.groupby("label"):
            color, marker = style(name)
            group = group.sort_values("seq_len")
            ax.plot(group["seq_len"], group["pe_util"], marker=marker, color=color, label=f"{name}, cycle DRAM")
        reference = load(args.data, bandwidth_sweep) if bandwidth_sweep else None
        if reference is not None:
            # The same runs: BERT, the batch of the cycle-DRAM sweep (the cloud sweeps run batch 64 at small N).
            same = (reference["workload"] == "bert") & reference["batch"].isin(rows["batch"].unique())
            reference = reference[same & (reference["seq_len"] <= rows["seq_len"].max())]
            for name, group in reference.groupby("label"):
                if name not in set(rows["label"]):
                    continue
                color, marker = style(name)
                group = group.sort_values("seq_len")
                ax.plot(group["seq_len"], group["pe_util"], linestyle="--", marker=marker, fillstyle="none", color=color, label=f"{name}, bandwidth")
        ax.set_xscale("log", base=2)
        ax.set_ylim(0, 1.05)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("sequence length N")
        ax.grid(alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel("PE utilization")
    axes[0][0].legend(fontsize=6)
    axes[1][1].legend(fontsize=6)
    save(fig, args.out, "cycle_dram")


if __name__ == "__main__":
    main()
