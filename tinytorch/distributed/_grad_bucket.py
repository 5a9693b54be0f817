"""``GradBucket``: what ``DistributedDataParallel`` hands a communication hook."""


class GradBucket:
    """One bucket of gradients, laid end to end in a flat buffer (made by DDP's reducer, not by
    users). A hook reduces ``buffer()`` across the ranks and returns a future of the result, which
    the reducer writes back into the parameters' ``.grad``."""

    def __init__(self, index, buffer, gradients, parameters, is_last):
        self._index = index
        self._buffer = buffer
        self._gradients = gradients
        self._parameters = parameters
        self._is_last = is_last

    def index(self):
        """The bucket's index (bucket 0 holds the gradients backward produces first)."""
        return self._index

    def buffer(self):
        """The flat 1-D tensor of the bucket's gradients (not divided by the world size)."""
        return self._buffer

    def gradients(self):
        """The gradients in the bucket, each a view of ``buffer()`` shaped like its parameter."""
        return list(self._gradients)

    def parameters(self):
        """The parameters whose gradients the bucket holds, in the order of ``gradients()``."""
        return list(self._parameters)

    def is_last(self):
        """Whether this is the last bucket of the iteration to be reduced."""
        return self._is_last

    def set_buffer(self, buffer):
        """Replace the bucket's buffer (a compression wrapper hands the hook a cast copy)."""
        self._buffer = buffer
