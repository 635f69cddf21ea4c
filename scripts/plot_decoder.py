"""Decoder attention (docs/figures/decoder_*.png): causal prefill over unmasked,
grouped KV heads, decode against its DRAM bound, sliding window vs causal."""
import matplotlib.pyplot as plt
import numpy as np

from flatsim_plots import arguments, load, save, style


def computed_blocks(n, rows, cols, window=None):
    """Fraction of a flash plan's R x C blocks a causal mask leaves to compute (prefill)."""
    tiles, blocks = -(-n // rows), -(-n // cols)
    total = 0
    for r in range(tiles):
        q0, q1 = r * rows, min((r + 1) * rows, n) - 1
        hi = min(q1 // cols + 1, blocks)
        lo = (q0 + 1 - window) // cols if window and q0 + 1 > window else 0
        total += hi - lo
    return total / (tiles * blocks)


def causal(args):
    frame = load(args.data, "decoder-causal")
    if frame is None:
        return
    platforms = sorted(frame["hw"].unique())
    fig, axes = plt.subplots(1, len(platforms), figsize=(4.5 * len(platforms), 3.4), sharey=True, squeeze=False)
    for ax, hw in zip(axes[0], platforms):
        for dataflow, group in frame[frame["hw"] == hw].groupby("dataflow"):
            none = group[group["mask"] == "none"].set_index("seq_len")
            masked = group[group["mask"] == "causal"].set_index("seq_len")
            n = sorted(set(none.index) & set(masked.index))
            color, marker = style(dataflow)
            ax.plot(n, masked.loc[n, "cycles"] / none.loc[n, "cycles"], marker=marker, color=color, label=f"{dataflow} cycles")
            if dataflow == "flash":
                frac = [computed_blocks(x, masked.loc[x, "rows"], masked.loc[x, "cols"]) for x in n]
                ax.plot(n, frac, linestyle="--", color=color, label="flash: unmasked blocks (= MACs)")
        ax.axhline(0.5, color="gray", linewidth=0.5)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("N")
        ax.set_title(f"Llama-3-8B causal / none, {hw}")
    axes[0][0].set_ylabel("causal / unmasked")
    axes[0][-1].legend(fontsize=7)
    save(fig, args.out, "decoder_causal")


def gqa(args):
    frame = load(args.data, "decoder-gqa")
    if frame is None:
        return
    fig, ax = plt.subplots(figsize=(4.5, 3.4))
    for dataflow, group in frame.groupby("dataflow"):
        group = group.sort_values("kv_heads")
        color, marker = style(dataflow)
        ax.plot(group["kv_heads"], group["dram_bytes"] / 1e6, marker=marker, color=color, label=dataflow)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("KV heads (32 query heads)")
    ax.set_ylabel("DRAM MB")
    ax.set_title("Llama-3-8B, N = 2048, edge")
    ax.legend(fontsize=7)
    save(fig, args.out, "decoder_gqa")


def decode(args):
    everything = load(args.data, "decoder-decode")
    if everything is None:
        return
    group_utilization(args, everything)
    frame = everything[everything["kv_heads"] == 8]
    batches = sorted(frame["batch"].unique())
    fig, axes = plt.subplots(1, len(batches), figsize=(4 * len(batches), 3.4), squeeze=False)
    for ax, batch in zip(axes[0], batches):
        part = frame[frame["batch"] == batch]
        # C = 4096 is clamped to the keys (kv_len + 1) for short caches.
        for large, group in part.groupby(part["cols"] > 256):
            group = group.sort_values("kv_len")
            name = "C = 4096 (at most the keys)" if large else "C = 256"
            ax.plot(group["kv_len"], group["cycles"], marker="D", label=f"flash, {name}")
        group = part[part["cols"] == part["cols"].min()].sort_values("kv_len")
        # dram_bw_util = bytes / (cycles x peak bytes per cycle): the DRAM bound in cycles.
        ax.plot(group["kv_len"], group["cycles"] * group["dram_bw_util"], "k--", label="DRAM bound")
        # Compute bound: 2 GEMMs x B x H x (kv_len + 1) x d MACs on 256 x 256 PEs.
        macs = 2 * batch * group["heads"] * (group["kv_len"] + 1) * group["head_dim"]
        ax.plot(group["kv_len"], macs / (256 * 256), "k:", label="compute bound")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("kv_len")
        ax.set_title(f"decode, B = {batch}, cloud")
    axes[0][0].set_ylabel("cycles per generated token")
    axes[0][0].legend(fontsize=7)
    save(fig, args.out, "decoder_decode")


def group_utilization(args, frame):
    """PE utilization of decode vs query heads per KV head (stacked operand rows)."""
    fig, ax = plt.subplots(figsize=(4.5, 3.4))
    part = frame[(frame["kv_len"] == 16384) & (frame["cols"] > 256)].copy()
    part["group"] = part["heads"] // part["kv_heads"]
    for batch, group in part.groupby("batch"):
        group = group.sort_values("group")
        ax.plot(group["group"], group["pe_util"], marker="o", label=f"B = {batch}")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("query heads per KV head g")
    ax.set_ylabel("PE utilization")
    ax.set_title("decode, kv_len 16384, C = 4096, cloud")
    ax.legend(fontsize=7)
    save(fig, args.out, "decoder_decode_group")


def window(args):
    frame = load(args.data, "decoder-window")
    if frame is None:
        return
    fig, ax = plt.subplots(figsize=(4.5, 3.4))
    frame["window"] = frame["window"].fillna(0)
    for w, group in frame.groupby("window"):
        group = group.sort_values("seq_len")
        ax.plot(group["seq_len"], group["cycles"], marker="o", label=f"window {int(w)}" if w else "full causal")
    n = np.array(sorted(frame["seq_len"].unique()))
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(n, [str(x) for x in n])
    ax.set_xlabel("N")
    ax.set_ylabel("cycles")
    ax.set_title("Mistral-7B flash, cloud")
    ax.legend(fontsize=7)
    save(fig, args.out, "decoder_window")


def main():
    args = arguments(__doc__)
    causal(args)
    gqa(args)
    decode(args)
    window(args)


if __name__ == "__main__":
    main()
