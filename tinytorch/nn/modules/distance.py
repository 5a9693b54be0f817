"""Distance modules: hold the options and call the distance functions."""

from .. import functional as F
from .module import Module


class PairwiseDistance(Module):
    """The p-norm distance between corresponding vectors of two inputs along the last dim,
    computed on ``x1 - x2 + eps`` (``norm`` holds ``p``, as PyTorch names it)."""

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """The cosine of the angle between two inputs along ``dim``, each norm clamped at ``eps``."""

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
