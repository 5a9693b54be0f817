"""``vmap``: map a function over a batch dimension, with PyTorch's API, checks and messages.

tinytorch's vmap is a loop: it calls ``func`` once per batch element (the inputs unbound along
their ``in_dims``, one ``unbind`` per input) and stacks the outputs along ``out_dims`` (one
``stack`` per output). So the values and gradients are a loop's, exactly; it is not faster than a
loop, and in-place ops on captured tensors act as they would in a loop. PyTorch instead runs
``func`` once on batched tensors.

Random ops draw through ``random.generator_for``, which calls this module's hook while a vmap
runs: randomness="error" refuses the draw with PyTorch's message, "different" lets each element
draw on (the loop's natural behaviour), and "same" gives every element one stream: at the first
draw from a generator, one seed is drawn from it, and each element starts a fresh generator from
that seed, so all elements see the same values and the generator advances once per call.
"""

import functools
import itertools
import threading
from collections import OrderedDict

from .. import random as _random
from .._ops._util import normalize_dim
from .._ops.movement import stack as _stack
from .._tensor import Tensor

_RANDOM_ERROR = (
    "vmap: called random operation while in randomness error mode. Please either use the 'same' or "
    "'different' randomness flags on vmap or perform the randomness operation out of vmap"
)


# -- pytrees: the containers PyTorch's torch.utils._pytree flattens, with its TreeSpec repr ----------
class _TreeSpec:
    """The structure of a pytree: a container type, its context (dict keys, namedtuple class) and
    the children's specs; the leaf spec prints as ``*`` (PyTorch's messages print these)."""

    __slots__ = ("kind", "context", "children", "num_leaves")

    def __init__(self, kind, context, children):
        self.kind, self.context, self.children = kind, context, children
        self.num_leaves = 1 if kind is None else sum(child.num_leaves for child in children)

    def __eq__(self, other):
        return (isinstance(other, _TreeSpec) and self.kind is other.kind and self.context == other.context
                and self.children == other.children)

    def __repr__(self, indent=0):
        if self.kind is None:
            return "*"
        name = "namedtuple" if self.kind is _NAMEDTUPLE else self.kind.__name__
        indent += 2
        children = [child.__repr__(indent) for child in self.children]
        return f"TreeSpec({name}, {self.context}, [" + (",\n" + " " * indent).join(children) + "])"


class _NAMEDTUPLE:
    """The kind of a namedtuple's spec (its context is the namedtuple class)."""


_LEAF = _TreeSpec(None, None, [])


def _is_namedtuple(tree):
    return isinstance(tree, tuple) and hasattr(type(tree), "_fields")


def _is_node(tree):
    kind = type(tree)
    return kind in (tuple, list, dict, OrderedDict) or _is_namedtuple(tree)


def _flatten(tree, leaves):
    """Append ``tree``'s leaves to ``leaves``; return its spec."""
    kind = type(tree)
    if kind is tuple or kind is list:
        return _TreeSpec(kind, None, [_flatten(child, leaves) for child in tree])
    if kind is dict or kind is OrderedDict:
        keys = list(tree)
        return _TreeSpec(kind, keys, [_flatten(tree[key], leaves) for key in keys])
    if _is_namedtuple(tree):
        return _TreeSpec(_NAMEDTUPLE, kind, [_flatten(child, leaves) for child in tree])
    leaves.append(tree)
    return _LEAF


def _tree_flatten(tree):
    leaves = []
    return leaves, _flatten(tree, leaves)


def _unflatten(spec, leaves):
    """Rebuild ``spec``'s tree from an iterator of leaves."""
    if spec.kind is None:
        return next(leaves)
    children = [_unflatten(child, leaves) for child in spec.children]
    if spec.kind is tuple:
        return tuple(children)
    if spec.kind is list:
        return children
    if spec.kind is _NAMEDTUPLE:
        return spec.context(*children)
    return spec.kind(zip(spec.context, children))


def _broadcast_prefix(prefix, spec, out):
    """Extend ``out`` with one entry of ``prefix`` per leaf of ``spec`` (a leaf of the prefix covers
    a whole subtree); False when ``prefix`` is not a prefix of ``spec``'s structure."""
    if not _is_node(prefix):
        out.extend([prefix] * spec.num_leaves)
        return True
    if spec.kind is None:
        return False
    if spec.kind is _NAMEDTUPLE:
        if type(prefix) is not spec.context:
            return False
    elif type(prefix) is not spec.kind:
        return False
    if spec.kind is dict or spec.kind is OrderedDict:
        if set(prefix) != set(spec.context):
            return False
        children = [prefix[key] for key in spec.context]
    else:
        if len(prefix) != len(spec.children):
            return False
        children = prefix
    return all(_broadcast_prefix(child, child_spec, out) for child, child_spec in zip(children, spec.children))


def _broadcast_to_and_flatten(prefix, spec):
    out = []
    return out if _broadcast_prefix(prefix, spec, out) else None


# -- randomness: the hook random.generator_for calls while a vmap runs ------------------------------
_thread_state = threading.local()  # this thread's stack of running vmap levels (nested vmaps)
_active_lock = threading.Lock()
_active_levels = 0  # over all threads: the hook is installed while any vmap runs


def _levels():
    levels = getattr(_thread_state, "levels", None)
    if levels is None:
        levels = _thread_state.levels = []
    return levels


def _on_random_draw(generator):
    """Before a draw from ``generator``: refuse it, or give it the level's shared stream."""
    levels = getattr(_thread_state, "levels", None)
    if not levels:
        return  # a vmap runs in another thread only
    for level in levels:  # PyTorch refuses when any enclosing vmap is in error mode
        if level.randomness == "error":
            raise RuntimeError(_RANDOM_ERROR)
    for level in levels:  # outermost first: an inner "same" seeds itself from the outer's stream
        if level.randomness == "same":
            level.share(generator)


class _Level:
    """One running vmap: its randomness mode and, for "same", the streams its elements share."""

    def __init__(self, randomness):
        self.randomness = randomness
        self.streams = {}  # Generator -> (its own numpy/cupy generator, the seed of the shared stream)

    def __enter__(self):
        global _active_levels
        _levels().append(self)
        with _active_lock:
            _active_levels += 1
            _random._vmap_random_hook = _on_random_draw
        return self

    def __exit__(self, *exc_info):
        global _active_levels
        _levels().pop()
        for generator, (own, _) in self.streams.items():
            generator._rng = own
        with _active_lock:
            _active_levels -= 1
            if not _active_levels:
                _random._vmap_random_hook = None

    def share(self, generator):
        if generator not in self.streams:
            seed = int(generator._rng.integers(0, 2**63 - 1))
            self.streams[generator] = (generator._rng, seed)
            generator._rng = _random.Generator(generator.device).manual_seed(seed)._rng

    def next_element(self):
        """Restart each shared stream, so the next element draws what the first one drew."""
        for generator, (_, seed) in self.streams.items():
            generator._rng = _random.Generator(generator.device).manual_seed(seed)._rng


# -- vmap -------------------------------------------------------------------------------------------
def _get_name(func):
    if hasattr(func, "__name__"):
        return func.__name__
    if isinstance(func, functools.partial):
        return f"functools.partial({_get_name(func.func)}, ...)"
    return repr(func)


def _check_out_dims(out_dims, func):
    if isinstance(out_dims, int):
        return
    leaves, _ = _tree_flatten(out_dims)
    for leaf in leaves:
        if leaf is not None and not isinstance(leaf, int):
            raise ValueError(
                f"vmap({_get_name(func)}, ..., out_dims={out_dims}): `out_dims` must be an int, None or a python "
                "collection of ints representing where in the outputs the vmapped dimension should appear."
            )


def _process_inputs(in_dims, args, func):
    """PyTorch's checks of ``in_dims`` against the inputs: (batch size, flat in_dims, flat args, spec)."""
    name = _get_name(func)
    if not isinstance(in_dims, (int, tuple)):
        raise ValueError(
            f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or a (potentially "
            f"nested) tuple matching the structure of inputs, got: {type(in_dims)}."
        )
    if len(args) == 0:
        raise ValueError(
            f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are trying to vmap "
            "over a function with no inputs. The latter is unsupported."
        )
    flat_args, args_spec = _tree_flatten(args)
    flat_in_dims = _broadcast_to_and_flatten(in_dims, args_spec)
    if flat_in_dims is None:
        raise ValueError(
            f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the structure of "
            f"`inputs`. in_dims has structure {_tree_flatten(in_dims)[1]} but inputs has structure {args_spec}."
        )
    for i, (arg, in_dim) in enumerate(zip(flat_args, flat_in_dims)):
        if not isinstance(in_dim, int) and in_dim is not None:
            raise ValueError(
                f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={in_dim} for an input but in_dim "
                "must be either an integer dimension or None."
            )
        if isinstance(in_dim, int) and not isinstance(arg, Tensor):
            raise ValueError(
                f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={in_dim} for an input but the input "
                f"is of type {type(arg)}. We cannot vmap over non-Tensor arguments, please use None as the "
                "respective in_dim"
            )
        if in_dim is not None:
            ndim = arg.dim()
            if not -ndim <= in_dim < ndim:
                raise ValueError(
                    f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={in_dim} for some input, but that "
                    f"input is a Tensor of dimensionality {ndim} so expected in_dim to satisfy "
                    f"-{ndim} <= in_dim < {ndim}."
                )
            flat_in_dims[i] = in_dim % ndim
    sizes = [arg.shape[d] for arg, d in zip(flat_args, flat_in_dims) if d is not None]
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(size != sizes[0] for size in sizes):
        raise ValueError(
            "vmap: Expected all tensors to have the same size in the mapped dimension, "
            f"got sizes {sizes} for the mapped dimension"
        )
    return sizes[0], flat_in_dims, flat_args, args_spec


def _flat_out_dims(out_dims, output, output_spec, func):
    """One out_dim per output leaf, or PyTorch's error for a structure that does not match."""
    if isinstance(output, Tensor):  # PyTorch's edge case: a lone tensor takes an int, None or a 1-tuple
        if isinstance(out_dims, int) or out_dims is None:
            return [out_dims]
        if isinstance(out_dims, tuple) and len(out_dims) == 1:
            return list(out_dims)
        flat = None
    else:
        flat = _broadcast_to_and_flatten(out_dims, output_spec)
    if flat is None:
        raise ValueError(
            f"vmap({_get_name(func)}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible with the "
            f"structure of `outputs`. out_dims has structure {_tree_flatten(out_dims)[1]} but outputs has "
            f"structure {output_spec}."
        )
    return flat


def _not_a_tensor(func, value):
    name = _get_name(func)
    return ValueError(
        f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(value)}. "
        "Did you mean to set out_dims= to None for output?"
    )


def _unbatched(func, results):
    """An output with out_dim None: the value every element returned (PyTorch returns it as is)."""
    first = results[0]
    if not isinstance(first, Tensor) or all(result is first for result in results):
        return first
    same = all(
        isinstance(result, Tensor) and result.shape == first.shape and result.dtype == first.dtype
        and _equal(result._data, first._data)
        for result in results[1:]
    )
    if not same:
        name = _get_name(func)
        raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None")
    return first


def _equal(a, b):
    """Equal arrays, NaN equal to NaN (one read-back: only for outputs with out_dim None)."""
    same = a == b
    if a.dtype.kind in "fc":
        same |= (a != a) & (b != b)
    return bool(same.all())


def _stack_outputs(func, flat_results, flat_out_dims):
    """Each output leaf stacked along its out_dim (``flat_results``: one flat list per element)."""
    stacked = []
    for k, out_dim in enumerate(flat_out_dims):
        column = [flat[k] for flat in flat_results]
        if out_dim is None:
            stacked.append(_unbatched(func, column))
            continue
        for value in column:
            if not isinstance(value, Tensor):
                raise _not_a_tensor(func, value)
        stacked.append(column[0].unsqueeze(out_dim) if len(column) == 1 else _stack(column, out_dim))
    return stacked


def _check_first_output(func, flat_output, flat_out_dims):
    """Fail after the first element, not after the whole batch: non-tensors and out_dims' range."""
    for value, out_dim in zip(flat_output, flat_out_dims):
        if out_dim is None:
            continue
        if not isinstance(value, Tensor):
            raise _not_a_tensor(func, value)
        normalize_dim(out_dim, value.dim() + 1)


def _empty_batch(func, flat_args, flat_in_dims, args_spec, kwargs, out_dims):
    """A batch of size 0: ``func`` runs once on zeros shaped like one element (to learn the outputs'
    structure and shapes), and each output gets a batch dim of size 0."""
    sample = []
    for arg, in_dim in zip(flat_args, flat_in_dims):
        if in_dim is None:
            sample.append(arg)
        elif arg.is_floating_point() or arg.is_complex():
            sample.append(arg.sum(in_dim))  # zeros that keep the graph to the input
        else:
            shape = tuple(arg.shape)
            sample.append(arg.new_zeros(shape[:in_dim] + shape[in_dim + 1:]))
    output = func(*_unflatten(args_spec, iter(sample)), **kwargs)
    flat_output, output_spec = _tree_flatten(output)
    flat_out_dims = _flat_out_dims(out_dims, output, output_spec, func)
    _check_first_output(func, flat_output, flat_out_dims)
    results = [value if out_dim is None else value.unsqueeze(out_dim).narrow(out_dim, 0, 0)
               for value, out_dim in zip(flat_output, flat_out_dims)]
    return _unflatten(output_spec, iter(results))


def _vmap_call(func, in_dims, out_dims, randomness, args, kwargs):
    _check_out_dims(out_dims, func)
    batch_size, flat_in_dims, flat_args, args_spec = _process_inputs(in_dims, args, func)
    with _Level(randomness) as level:
        if batch_size == 0:
            return _empty_batch(func, flat_args, flat_in_dims, args_spec, kwargs, out_dims)
        # One unbind per batched input: the elements' slices are views made by one op, whose backward
        # is one stack (selecting each element would cost a full-size gradient per element).
        columns = [itertools.repeat(arg) if in_dim is None else arg.unbind(in_dim)
                   for arg, in_dim in zip(flat_args, flat_in_dims)]
        plain = args_spec.kind is tuple and all(child.kind is None for child in args_spec.children)
        elements = zip(*columns)
        output = func(*(next(elements) if plain else _unflatten(args_spec, iter(next(elements)))), **kwargs)
        flat_output, output_spec = _tree_flatten(output)
        flat_out_dims = _flat_out_dims(out_dims, output, output_spec, func)
        _check_first_output(func, flat_output, flat_out_dims)
        flat_results = [flat_output]
        same = randomness == "same"
        if plain and output_spec is _LEAF and not same:  # the common case, without per-element bookkeeping
            flat_results += [[func(*element, **kwargs)] for element in elements]
        for element in elements:
            if same:
                level.next_element()
            output = func(*(element if plain else _unflatten(args_spec, iter(element))), **kwargs)
            flat_output, spec = _tree_flatten(output)
            if spec != output_spec:
                raise ValueError(
                    f"vmap({_get_name(func)}, ...): `{_get_name(func)}` returned outputs of different structures "
                    f"for different batch elements: {output_spec} and {spec}"
                )
            flat_results.append(flat_output)
    return _unflatten(output_spec, iter(_stack_outputs(func, flat_results, flat_out_dims)))


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``func`` mapped over a dimension of its inputs, like ``torch.vmap``: ``vmap(torch.dot)(x, y)``
    takes rows of ``x`` and ``y`` and returns their dot products, stacked.

    ``in_dims`` (an int, or a tuple matching the inputs, nested like them; None for an input not
    mapped) says which dim of each input is mapped, and ``out_dims`` (an int, None, or a tree
    matching the outputs) where the mapped dim goes in each output. ``randomness`` is "error"
    (random ops inside ``func`` raise), "different" (each element draws its own values) or "same"
    (every element sees the same values). ``chunk_size`` is accepted and checked; in tinytorch it
    changes nothing, as vmap runs ``func`` once per element (a loop: the values and gradients of a
    loop, at a loop's speed). Keyword arguments are passed to every call unmapped.
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        return _vmap_call(func, in_dims, out_dims, randomness, args, kwargs)

    return wrapped

