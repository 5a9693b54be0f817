"""Variable-length sequences for the recurrent layers: ``PackedSequence`` and PyTorch's helpers
``pad_sequence``, ``pack_padded_sequence``, ``pad_packed_sequence``, ``pack_sequence``,
``unpad_sequence``, ``unpack_sequence`` and ``invert_permutation``.

A packed sequence holds the time steps of a batch back to back, longest sequences first, so that
step ``t`` is ``data[offset_t : offset_t + batch_sizes[t]]``. Packing and padding move rows with
one ``index_select`` each (the row positions are worked out on the host from the lengths, which
PyTorch also keeps on the CPU), so the gradient flows back through them to the padded input.
"""

from collections import namedtuple

import numpy as np

from ... import _backend as backend, _creation as creation, _dtypes as dtypes, _ops as ops
from ..._tensor import Tensor

__all__ = [
    "PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
    "unpad_sequence", "pack_sequence", "unpack_sequence",
]

_PackedSequenceBase = namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


class PackedSequence(_PackedSequenceBase):
    """The data and ``batch_sizes`` of a packed batch of sequences (made by ``pack_padded_sequence``
    or ``pack_sequence``); ``batch_sizes`` is a CPU int64 tensor, ``sorted_indices`` and
    ``unsorted_indices`` (or None) say how the batch was reordered by length."""

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PackedSequence((data, batch_sizes), sorted_indices=...)
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        elif batch_sizes.device.type != "cpu":
            raise ValueError(
                "batch_sizes should always be on CPU. Instances of PackedSequence should never be created manually. "
                "They should be instantiated by functions like pack_sequence and pack_padded_sequences in nn.utils.rnn. "
                "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence"
            )
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """``data.to(...)``; the indices follow data's device, batch_sizes stays on the CPU."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        indices = [None if t is None else t.to(data.device) for t in (self.sorted_indices, self.unsorted_indices)]
        return type(self)(data, self.batch_sizes, *indices)

    def cuda(self, device=None, non_blocking=False):
        return self.to(device if device is not None else "cuda")

    def cpu(self):
        return self.to("cpu")

    def pin_memory(self):
        return self

    def is_pinned(self):
        return False

    def double(self):
        return self.to(dtype=dtypes.float64)

    def float(self):
        return self.to(dtype=dtypes.float32)

    def half(self):
        return self.to(dtype=dtypes.float16)

    def long(self):
        return self.to(dtype=dtypes.int64)

    def int(self):
        return self.to(dtype=dtypes.int32)

    def short(self):
        return self.to(dtype=dtypes.int16)

    def char(self):
        return self.to(dtype=dtypes.int8)

    def byte(self):
        return self.to(dtype=dtypes.uint8)

    @property
    def is_cuda(self):
        return self.data.is_cuda


def invert_permutation(permutation):
    """The inverse of a permutation tensor (None stays None)."""
    if permutation is None:
        return None
    xp = backend.array_module(permutation._data)
    inverse = xp.empty_like(permutation._data)
    inverse[permutation._data] = xp.arange(permutation._data.size, dtype=permutation._data.dtype)
    return Tensor._make(inverse)


def _host_lengths(lengths):
    """Sequence lengths as a host int64 array, with PyTorch's checks on a tensor argument."""
    if isinstance(lengths, Tensor):
        if lengths.dim() != 1 or lengths.device.type != "cpu" or lengths._data.dtype.kind not in "iu":
            raise RuntimeError(
                "'lengths' argument should be a 1D CPU int64 tensor, but got "
                f"{lengths.dim()}D {lengths.device.type} {_title(lengths)} tensor"
            )
        return np.asarray(lengths._data, dtype=np.int64)
    return np.asarray(lengths, dtype=np.float64).astype(np.int64).reshape(-1)


def _title(t):
    return dtypes.scalar_type_name(t._data.dtype)


def _int64(array, device="cpu"):
    return Tensor._make(backend.to_device(np.ascontiguousarray(array, dtype=np.int64), device))


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch ``T x B x *`` (``B x T x *`` with ``batch_first``) of sequences of the
    given lengths. With ``enforce_sorted`` the lengths must decrease; otherwise the batch is
    sorted here and the PackedSequence remembers the order."""
    lengths = _host_lengths(lengths)
    if input.dim() < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of [-{max(input.dim(), 1)}, {max(input.dim() - 1, 0)}], but got 1)")
    batch_dim = 0 if batch_first else 1
    steps, batch = input.shape[1 - batch_dim], input.shape[batch_dim]
    if lengths.size != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {lengths.size} (batch_size={batch})")
    if batch and lengths.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0")
    sorted_indices = None
    if enforce_sorted:
        if (np.diff(lengths) > 0).any():
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass "
                "`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement "
                "if you do not need ONNX exportability."
            )
        order = np.arange(batch)
    else:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices = _int64(order, input.device)
    if batch and lengths[0] > steps:
        raise RuntimeError(
            f"pack_padded_sequence: a sequence of length {lengths[0]} does not fit in the input's {steps} time steps"
        )
    longest = int(lengths[0]) if batch else 0
    batch_sizes = (lengths[None, :] > np.arange(longest)[:, None]).sum(axis=1)
    # Packed rows in time-major order: (t, b) for b < batch_sizes[t]; b names the sorted position.
    t, b = np.nonzero(np.arange(longest)[:, None] < lengths[None, :])
    source = order[b]
    rows = source * steps + t if batch_first else t * batch + source
    flat = input.reshape(steps * batch, *input.shape[2:])
    data = flat.index_select(0, _int64(rows, input.device))
    return PackedSequence(data, _int64(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of ``pack_padded_sequence``: (padded batch, lengths), in the original batch order."""
    batch_sizes = np.asarray(sequence.batch_sizes._data, dtype=np.int64)
    longest = batch_sizes.size
    if total_length is not None:
        if total_length < longest:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in input, but got "
                f"total_length={total_length} and max sequence length being {longest}"
            )
        steps = total_length
    else:
        steps = longest
    data = sequence.data
    batch = int(batch_sizes[0]) if longest else 0
    lengths = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(axis=1)  # per sorted position
    offsets = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]])
    unsorted = None if sequence.unsorted_indices is None else backend.to_numpy(sequence.unsorted_indices._data)
    position = np.arange(batch) if unsorted is None else unsorted  # the sorted position of each original row
    time = np.arange(steps)[:, None]
    valid = time < lengths[position][None, :]
    padding_row = data.shape[0]
    rows = np.where(valid, offsets[np.minimum(time, longest - 1)] + position[None, :], padding_row)  # (steps, batch)
    if batch_first:
        rows = rows.T
    pad = creation.full((1, *data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    padded = ops.cat([data, pad]).index_select(0, _int64(rows.reshape(-1), data.device))
    padded = padded.reshape(*rows.shape, *data.shape[1:])
    return padded, _int64(lengths[position])


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences of sizes ``L_i x *`` into ``T x B x *`` (``B x T x *`` with batch_first),
    padded with ``padding_value`` on the right (or the left) up to the longest length T."""
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    elif not isinstance(sequences, (list, tuple)):
        try:
            sequences = list(sequences)
        except TypeError:
            raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg of type: {type(sequences)}") from None
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    first = sequences[0]
    for s in sequences:
        if s.dim() == 0:
            raise RuntimeError("pad_sequence: every sequence needs a length (dim 0), but got a 0-d tensor")
        if tuple(s.shape[1:]) != tuple(first.shape[1:]):
            raise RuntimeError(
                f"pad_sequence: all sequences must have the same trailing dimensions, but got {list(first.shape)} and {list(s.shape)}"
            )
    lengths = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    steps = int(lengths.max())
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    time = np.arange(steps)[:, None]
    shift = (steps - lengths)[None, :] if padding_side == "left" else 0
    inside = (time - shift >= 0) & (time - shift < lengths[None, :])
    rows = np.where(inside, starts[None, :] + time - shift, lengths.sum())  # (steps, batch); the last row pads
    if batch_first:
        rows = rows.T
    pad = creation.full((1, *first.shape[1:]), padding_value, dtype=first.dtype, device=first.device)
    pieces = [s if s.dtype == first.dtype else s.to(first.dtype) for s in sequences]
    flat = ops.cat(pieces + [pad])
    return flat.index_select(0, _int64(rows.reshape(-1), first.device)).reshape(*rows.shape, *first.shape[1:])


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The sequences of a padded batch, each cut to its length."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    lengths = _host_lengths(lengths) if isinstance(lengths, Tensor) else np.asarray(lengths, dtype=np.int64)
    if len(lengths) != padded_sequences.shape[0]:
        shorter = len(lengths) < padded_sequences.shape[0]
        raise ValueError(f"zip() argument 2 is {'shorter' if shorter else 'longer'} than argument 1")
    return [padded_sequences[b, : int(length)] for b, length in enumerate(lengths)]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of sequences ``L_i x *`` (``pad_sequence`` then ``pack_padded_sequence``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences held by a PackedSequence, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
