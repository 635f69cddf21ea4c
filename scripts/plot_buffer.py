"""PE utilization vs on-chip buffer size, FLAT's buffer figure (docs/figures/util_vs_buffer.png)."""
import matplotlib.pyplot as plt

from flatsim_plots import arguments, load, save, style


def main():
    args = arguments(__doc__)
    frame = load(args.data, "buffer")
    if frame is None:
        return
    sizes = sorted(frame["sram.capacity_bytes"].unique())
    lengths = sorted(frame["seq_len"].unique())
    fig, axes = plt.subplots(1, len(lengths), figsize=(4.5 * len(lengths), 3.4), sharey=True, squeeze=False)
    for ax, n in zip(axes[0], lengths):
        subset = frame[frame["seq_len"] == n]
        labels = sorted(subset["label"].unique())
        width = 0.8 / len(labels)
        for i, name in enumerate(labels):
            group = subset[subset["label"] == name].set_index("sram.capacity_bytes").reindex(sizes)
            color, _ = style(name)
            ax.bar([x + i * width for x in range(len(sizes))], group["pe_util"].fillna(0), width, color=color, label=name)
        ax.set_xticks([x + 0.4 - width / 2 for x in range(len(sizes))])
        ax.set_xticklabels([human(s) for s in sizes])
        ax.set_xlabel("on-chip buffer")
        ax.set_title(f"N = {n}")
        ax.set_ylim(0, 1.05)
    axes[0][0].set_ylabel("PE utilization (L and A)")
    axes[0][-1].legend(fontsize=8)
    save(fig, args.out, "util_vs_buffer")


def human(size):
    for unit, factor in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= factor:
            return f"{size / factor:g} {unit}"
    return f"{size} B"


if __name__ == "__main__":
    main()
