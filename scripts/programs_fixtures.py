"""Data for scripts/run_programs.py: where each program looks for its data, put there before it runs.

The programs run without a network. MNIST comes from this repository (data/MNIST/raw, torchvision's
layout); the other data sets they would download are replaced by small generated files of the same
format, written where the program looks, so that its own code skips the download. Each fixture
returns one line saying what it did, for the results table.
"""

import os
import shutil

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST_RAW = os.path.join(ROOT, "data", "MNIST", "raw")


def _link_mnist(folder):
    os.makedirs(os.path.dirname(folder), exist_ok=True)
    if not os.path.exists(folder):
        os.symlink(MNIST_RAW, folder)


def mnist(workdir, root):
    """``<root>/MNIST/raw`` -> this repository's MNIST files."""
    _link_mnist(os.path.join(workdir, root, "MNIST", "raw"))
    return f"MNIST from data/MNIST/raw linked at {os.path.join(root, 'MNIST', 'raw')}"


def fashion_mnist(workdir, root):
    """``<root>/FashionMNIST/raw`` -> the MNIST digits: the same file names and format, no download."""
    _link_mnist(os.path.join(workdir, root, "FashionMNIST", "raw"))
    return "FashionMNIST cannot be downloaded: MNIST digits (same IDX files) stand in at data/FashionMNIST/raw"


def bsds300(workdir, train=16, test=4, seed=0):
    """Generated 481x321 JPEGs where super_resolution's ``download_bsd300`` looks (dataset/BSDS300/images)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:321, 0:481]
    for split, count in (("train", train), ("test", test)):
        folder = os.path.join(workdir, "dataset", "BSDS300", "images", split)
        os.makedirs(folder, exist_ok=True)
        for i in range(count):
            # Smooth colour gradients plus noise: something for the network to upscale.
            fx, fy = rng.uniform(0.005, 0.05, size=2)
            base = np.stack([np.sin(fx * xx + c) * np.cos(fy * yy + 2 * c) for c in range(3)], axis=-1)
            image = np.clip(127.5 + 100 * base + rng.normal(0, 10, base.shape), 0, 255).astype(np.uint8)
            Image.fromarray(image).save(os.path.join(folder, f"{i:06d}.jpg"))
    return f"BSDS300 cannot be downloaded: {train} train + {test} test generated 481x321 JPEGs in dataset/BSDS300/images"


def cora(workdir, nodes=1800, features=1433, edges=5429, classes=7, seed=0):
    """Generated Cora-format files (``cora/cora.content``, ``cora/cora.cites``): random sparse
    binary word features, 7 string labels, random citations between the listed paper ids."""
    rng = np.random.default_rng(seed)
    folder = os.path.join(workdir, "cora")
    os.makedirs(folder, exist_ok=True)
    ids = rng.choice(10**6, size=nodes, replace=False)
    labels = [f"Class_{k}" for k in range(classes)]
    words = (rng.random((nodes, features)) < 0.013).astype(np.int8)
    with open(os.path.join(folder, "cora.content"), "w") as f:
        for i in range(nodes):
            f.write(f"{ids[i]}\t" + "\t".join(map(str, words[i])) + f"\t{labels[i % classes]}\n")
    pairs = rng.integers(0, nodes, size=(edges, 2))
    with open(os.path.join(folder, "cora.cites"), "w") as f:
        for a, b in pairs:
            f.write(f"{ids[a]}\t{ids[b]}\n")
    return f"Cora cannot be downloaded: generated Cora-format files ({nodes} papers, {features} word features, {edges} citations) in cora/"


def wikitext2_train(workdir):
    """word_language_model's data/wikitext-2/train.txt when the snapshot lacks it (files of 4 MiB and
    more are not stored): the shipped valid.txt copied as train.txt."""
    folder = os.path.join(workdir, "data", "wikitext-2")
    if os.path.isfile(os.path.join(folder, "train.txt")):
        return "data/wikitext-2 as shipped"
    shutil.copy(os.path.join(folder, "valid.txt"), os.path.join(folder, "train.txt"))
    return "wikitext-2 train.txt (10.8 MB) is not in the snapshot: the shipped valid.txt is copied as train.txt"
