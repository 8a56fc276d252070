"""The report's plots (PNG): token-level confusion, trigger score histogram, PR curve."""

from __future__ import annotations

from pathlib import Path


def plot_confusion(cm, labels: list[str], path: Path) -> None:
    import matplotlib.pyplot as plt
    import numpy as np

    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)     # row-normalised colours
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=8,
                    color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title("Token-level role confusion (colour: share of gold row)")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_score_hist(outcomes, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    bins = [i / 20 for i in range(21)]
    ax.hist([s for s, ok in outcomes if ok], bins=bins, alpha=0.7, label="correct", color="#2a9d8f")
    ax.hist([s for s, ok in outcomes if not ok], bins=bins, alpha=0.7, label="wrong", color="#e76f51")
    ax.set_xlabel("trigger score")
    ax.set_ylabel("predicted triggers")
    ax.set_title("Predicted trigger scores")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_pr(precision: list[float], recall: list[float], path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.plot(recall, precision, marker=".", drawstyle="steps-post")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("Triggers: precision-recall over score threshold")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
