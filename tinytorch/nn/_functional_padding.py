"""``F.pad`` in every mode, checked in PyTorch's order and with its messages; the work is done by
``tinytorch._ops.padding.Pad``."""

from .._ops.padding import Pad

__all__ = ["pad"]

_SUPPORT = (
    "\nSupported combinations for non-constant padding:\n"
    "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
    "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
    "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
)
_LETTERS = ("W", "H", "D")  # the padded dims as PyTorch's messages name them, the last first


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad) / 2 dims: ``pad = (left, right, top, bottom, front, back)``, the last dim first.

    Modes: 'constant' (``value``, default 0; negative sizes crop), 'reflect' (mirror, the edge
    not repeated), 'replicate' (repeat the edge), 'circular' (wrap around). All differentiable.
    """
    pad = tuple(int(p) for p in pad)
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    ndim = input.dim()
    if len(pad) > ndim * 2:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but got "
            f"padding length {len(pad)} and input of dimension {ndim}"
        )
    widths = tuple(zip(pad[0::2], pad[1::2]))
    shape = tuple(input.shape)
    if mode == "constant":
        _check_constant(shape, widths)
        return Pad.apply(input, widths, mode, 0 if value is None else value, shape, False)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if ndim not in (len(widths) + 1, len(widths) + 2) or not widths:
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {ndim}D input tensor." + _SUPPORT)
    if mode == "circular":
        _check_circular(shape, widths)
    else:
        _check_mirror(shape, widths, mode)
    return Pad.apply(input, widths, mode, 0, shape, False)


def _check_constant(shape, widths):
    for i, (before, after) in enumerate(widths):
        size = shape[len(shape) - 1 - i]
        if size + min(before, 0) + min(after, 0) < 0:
            raise RuntimeError("narrow(): length must be non-negative.")


def _check_circular(shape, widths):
    for i, (before, after) in enumerate(widths):
        size = shape[len(shape) - 1 - i]
        kept = size - max(-before, 0) - max(-after, 0)
        # PyTorch checks the widths against the size; past the kept part (cut by a negative width
        # on the other side) its copies read memory not yet written, so tinytorch refuses that too.
        if before > size or after > size:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if size + before + after < 0:
            raise RuntimeError("Negative padding value is resulting in an empty dimension")
        if max(before, 0) > kept or max(after, 0) > kept:
            raise RuntimeError("Padding value causes wrapping around more than once (around the part left after cropping).")


def _check_mirror(shape, widths, mode):
    """reflection_pad / replication_pad: non-empty dims; reflect's widths below the size; some output."""
    spatial = len(widths)
    batched = len(shape) == spatial + 2
    if any(s == 0 for s in shape[1 if batched else 0:]):
        raise RuntimeError(
            f"Expected {spatial + 1}D or {spatial + 2}D (batch mode) tensor with possibly 0 batch size and other "
            f"non-zero dimensions for input, but got: {list(shape)}"
        )
    if mode == "reflect":
        for i, (before, after) in enumerate(widths):
            dim = len(shape) - 1 - i
            if before >= shape[dim] or after >= shape[dim]:
                raise RuntimeError(
                    f"Argument #{4 + 2 * i}: Padding size should be less than the corresponding input dimension, "
                    f"but got: padding ({before}, {after}) at dimension {dim} of input {list(shape)}"
                )
    sizes = [shape[len(shape) - 1 - i] for i in range(spatial)]
    outputs = [s + b + a for s, (b, a) in zip(sizes, widths)]
    if all(o < 1 for o in outputs) or any(o < 0 for o in outputs):
        named = lambda values: ", ".join(f"{_LETTERS[i]}: {values[i]}" for i in reversed(range(spatial)))  # noqa: E731
        raise RuntimeError(f"input ({named(sizes)}) is too small. Calculated output {named(outputs).replace(',', '')}")
