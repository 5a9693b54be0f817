"""``einsum``: Einstein summation over any number of operands, one primitive.

The equation is parsed once (PyTorch's rules: letters a-zA-Z, spaces ignored, one ``...`` per
operand, an implicit output of the letters seen once in alphabetical order), ellipses become
ordinary labels, and ``Einsum`` runs ``xp.einsum`` on label strings. Its backward is einsum
again: the gradient of operand i contracts the output's gradient with every other operand onto
operand i's labels; labels summed inside operand i alone are broadcast back, and a repeated
label (a diagonal, ``'ii->i'``) is placed back on its diagonal by a constant delta tensor. Since
the backward calls ``Einsum`` itself, every derivative order works.
"""

import string

from .. import _backend as backend, _dtypes as dtypes
from ..autograd.function import Function
from ._util import check_same_device, wrap
from .movement import Expand, Reshape

_LETTERS = string.ascii_lowercase + string.ascii_uppercase  # NumPy's label alphabet


class Einsum(Function):
    """out = einsum(inputs -> output) with labels as ints; ``sizes`` maps each label to its size."""

    @staticmethod
    def forward(ctx, spec, *operands):
        inputs, output, sizes = spec
        arrays = []
        for labels, operand in zip(inputs, operands):
            data = operand._data
            full = tuple(sizes[label] for label in labels)
            if data.shape != full:  # size-1 dims broadcast against the label's size
                data = backend.array_module(data).broadcast_to(data, full)
            arrays.append(data)
        ctx.save_for_backward(*operands)
        ctx.spec = spec
        xp = backend.array_module(arrays[0])
        return wrap(xp.einsum(_equation(inputs, output), *arrays, optimize=len(arrays) > 1))

    @staticmethod
    def backward(ctx, grad_output):
        operands = ctx.saved_tensors
        inputs, output, sizes = ctx.spec
        grads = [None]
        for i, labels in enumerate(inputs):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            others = [(inputs[k], operands[k]) for k in range(len(inputs)) if k != i]
            elsewhere = set(output).union(*(set(lab) for lab, _ in others))
            unique = tuple(dict.fromkeys(labels))
            present = tuple(label for label in unique if label in elsewhere)
            spec = ((tuple(output),) + tuple(lab for lab, _ in others), present, sizes)
            grad = Einsum.apply(spec, grad_output, *(t for _, t in others))
            if len(present) != len(unique):  # labels summed within operand i: broadcast back
                kept = tuple(sizes[label] if label in present else 1 for label in unique)
                grad = Expand.apply(Reshape.apply(grad, kept, True), tuple(sizes[label] for label in unique))
            if len(unique) != len(labels):  # repeated labels: back onto the diagonal
                grad = _onto_diagonals(grad, unique, labels, sizes)
            grads.append(grad)
        return tuple(grads)


def _onto_diagonals(grad, unique, labels, sizes):
    """``grad`` (labelled ``unique``) spread to ``labels``, where a label may repeat: zero off the diagonals."""
    fresh = max(sizes) + 1
    positions, deltas = [], []
    seen = set()
    for label in labels:
        if label in seen:
            positions.append(fresh)
            deltas.append((label, fresh))
            fresh += 1
        else:
            positions.append(label)
            seen.add(label)
    xp = backend.array_module(grad._data)
    inputs, operands, all_sizes = [tuple(unique)], [grad], dict(sizes)
    for label, copy in deltas:
        all_sizes[copy] = sizes[label]
        inputs.append((label, copy))
        operands.append(wrap(xp.eye(sizes[label], dtype=grad._data.dtype)))
    return Einsum.apply((tuple(inputs), tuple(positions), all_sizes), *operands)


def _equation(inputs, output):
    """A NumPy equation string for int labels (renumbered compactly into a-zA-Z)."""
    names = {}
    for label in [label for labels in inputs for label in labels] + list(output):
        if label not in names:
            if len(names) == len(_LETTERS):
                raise RuntimeError("einsum(): too many subscripts (at most 52 distinct, ellipsis dimensions included)")
            names[label] = _LETTERS[len(names)]
    return ",".join("".join(names[label] for label in labels) for labels in inputs) + "->" + "".join(names[label] for label in output)


def _parse(equation, operands):
    """(inputs, output, sizes) with labels as ints (letters 0-51, ellipsis dims 52+), PyTorch's errors."""
    equation = equation.replace(" ", "")
    left, arrow, right = equation.partition("->")
    terms = left.split(",")
    if len(terms) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    position = 0
    inputs, ellipsis_dims = [], 0
    for k, (term, operand) in enumerate(zip(terms, operands)):
        labels, ndim = [], operand.dim()
        has_ellipsis = "..." in term
        named = len(term.replace("...", ""))
        i = 0
        while i < len(term):
            char = term[i]
            if term.startswith("...", i):
                covered = ndim - named
                if covered < 0:
                    break
                ellipsis_dims = max(ellipsis_dims, covered)
                labels.extend(("...", covered - j) for j in range(covered))  # counted from the right
                i += 3
                continue
            if char == ".":
                raise RuntimeError(f"einsum(): found '.' for operand {k} that is not part of any ellipsis")
            if char not in _LETTERS:
                raise RuntimeError(
                    f"einsum(): invalid subscript given at index {position + i} in the equation string, subscripts must be in [a-zA-Z]"
                )
            labels.append(_LETTERS.index(char))
            i += 1
        if named > ndim or (not has_ellipsis and named != ndim):
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({named}) "
                + ("is more than the number of dimensions" if has_ellipsis else "does not match the number of dimensions")
                + f" ({ndim}) for operand {k}" + ("" if has_ellipsis else " and no ellipsis was given")
            )
        inputs.append(labels)
        position += len(term) + 1
    ellipsis = [("...", ellipsis_dims - j) for j in range(ellipsis_dims)]
    if arrow:
        output = []
        i = 0
        while i < len(right):
            if right.startswith("...", i):
                output.extend(ellipsis)
                i += 3
                continue
            char = right[i]
            if char not in _LETTERS:
                raise RuntimeError(
                    f"einsum(): invalid subscript given at index {len(left) + 2 + i} in the equation string, subscripts must be in [a-zA-Z]"
                )
            label = _LETTERS.index(char)
            if label in output:
                raise RuntimeError(f"einsum(): output subscript {char} appears more than once in the output")
            if not any(label in labels for labels in inputs):
                raise RuntimeError(f"einsum(): output subscript {char} does not appear in the equation for any input operand")
            output.append(label)
            i += 1
    else:  # implicit: the ellipsis, then the letters seen once, in ASCII order (upper case first)
        counts = {}
        for labels in inputs:
            for label in labels:
                if label.__class__ is int:
                    counts[label] = counts.get(label, 0) + 1
        once = sorted((label for label, count in counts.items() if count == 1), key=lambda label: ord(_LETTERS[label]))
        output = ellipsis + once
    sizes = _label_sizes(inputs, operands)
    numbers = {label: n for n, label in enumerate(dict.fromkeys([lab for labels in inputs for lab in labels] + output))}
    return (
        tuple(tuple(numbers[lab] for lab in labels) for labels in inputs),
        tuple(numbers[lab] for lab in output),
        {numbers[lab]: size for lab, size in sizes.items()},
    )


def _label_sizes(inputs, operands):
    """Each label's size; size-1 dims broadcast, other mismatches are PyTorch's errors."""
    sizes = {}
    for k, (labels, operand) in enumerate(zip(inputs, operands)):
        shape = operand.shape
        own = {}
        for label, size in zip(labels, shape):
            if label in own and own[label] != size and label.__class__ is int:
                raise RuntimeError(
                    f"einsum(): subscript {_LETTERS[label]} is repeated for operand {k} but the sizes don't match, {size} != {own[label]}"
                )
            own[label] = size
            seen = sizes.get(label)
            if seen is None or seen == 1:
                sizes[label] = size
            elif size not in (1, seen):
                if label.__class__ is int:
                    raise RuntimeError(
                        f"einsum(): subscript {_LETTERS[label]} has size {size} for operand {k} which does not broadcast "
                        f"with previously seen size {seen}"
                    )
                raise RuntimeError(
                    f"einsum(): dimension {labels.index(label)} covered by ellipsis in operand {k}has size {size} which "
                    f"does not broadcast with previously seen ellipsis with size {seen} for the respective dimension"
                )
    return sizes


def einsum(equation, *operands):
    """Einstein summation: ``einsum('ij,jk->ik', a, b)`` is ``a @ b``; operands may also come as one list."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    first = operands[0]
    for other in operands[1:]:
        check_same_device(first, other)
        if other._data.dtype != first._data.dtype:
            raise RuntimeError(f"expected scalar type {_dtype_title(first)} but found {_dtype_title(other)}")
    inputs, output, sizes = _parse(equation, operands)
    return Einsum.apply((inputs, output, sizes), *operands)



def _dtype_title(t):
    return dtypes.scalar_type_name(t._data.dtype)
