"""ChannelShuffle: interleave the channels of ``groups`` groups (ShuffleNet's shuffle)."""

from .. import functional as F
from .module import Module


class ChannelShuffle(Module):
    """(N, C, *) -> (N, C, *) with the channels of (N, g, C/g, *) read as (N, C/g, g, *)."""

    __constants__ = ["groups"]

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"
