"""Dropout layers: zero elements (``Dropout``) or whole channels (``Dropout1d/2d/3d``) with
probability p while training, scaling the rest by 1/(1-p); ``AlphaDropout`` and
``FeatureAlphaDropout`` for SELU networks."""

from .. import functional as F
from .module import Module


class _DropoutNd(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Randomly zeroes elements in training mode; the identity in eval mode."""

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Randomly zeroes whole channels of (N, C, L) or (C, L) inputs in training mode."""

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Randomly zeroes whole channels of (N, C, H, W) inputs in training mode."""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Randomly zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) inputs in training mode."""

    def forward(self, input):
        return F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Alpha dropout of elements in training mode (keeps SELU's zero mean and unit variance); the
    identity in eval mode. Like PyTorch's, it never works in place, whatever ``inplace`` says."""

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels of (N, C, ...) inputs in training mode. Like PyTorch's, it
    never works in place, whatever ``inplace`` says."""

    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training)
