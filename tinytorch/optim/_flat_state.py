"""Optimizer state laid out flat: PyTorch's multi-tensor ("foreach") updates, done with NumPy.

An update written parameter by parameter pays Python's and a ufunc call's overhead once per pass
per parameter: Adam's 13 passes cost 22 us a parameter before any arithmetic, 225 us of a step for
the lecture's 10 parameters. When the state arrays of a group's parameters (Adam's ``exp_avg`` and
``exp_avg_sq``) are consecutive views of one array per name, the passes that touch only state and
scratch run once over the whole group, and only those that read a gradient or write a parameter
stay per parameter. Element by element the arithmetic is unchanged, and so are the bits.

The state tensors stay what PyTorch's are, one per parameter and name (``state_dict`` and
``load_state_dict`` see no difference); only their arrays are views. A state array is moved into a
flat array only when it is the optimizer's own: one it made (or copied in ``load_state_dict``), or a
view of a flat array it made. Anything else (an array in shared memory after ``share_memory_()``,
a non-contiguous one, another dtype or device) keeps its own arrays and is updated alone.

``update`` runs an optimizer's passes over a run in pieces of its elements split over the cores
(tinytorch/_threads.py), each thread making every pass over its own piece, as PyTorch's kernels
split each pass the same way: a piece stays in its core's cache from one pass to the next, and
from one step to the next."""

import numpy as np

from .. import _backend as backend
from .. import _threads

# A run stops growing at this many elements, so that the scratch arrays an update needs (each as
# long as its longest run) stay bounded for a large model; past a few million elements the calls'
# overhead is lost in the arithmetic anyway.
_RUN_ELEMENTS = 1 << 22


class Run:
    """Parameters updated together. ``flats[name]`` holds their ``name`` state, and
    ``views[name][i]`` is parameter i's part, the array of its state tensor; a run of one
    parameter uses that parameter's own state arrays."""

    __slots__ = ("params", "states", "flats", "views", "device", "_parts", "_splits")

    def __init__(self, params, states, flats, views, parts):
        self.params, self.states, self.flats, self.views = params, states, flats, views
        self.device = params[0].device
        self._parts = parts  # (offset, size, shape) of each parameter in the flat arrays
        self._splits = {}

    def scratch(self, optimizer, slot):
        """The optimizer's scratch array ``slot``, shaped like the run's flat arrays, and each
        parameter's part of it (cached while the optimizer keeps the same buffer)."""
        like = next(iter(self.flats.values()))
        array = optimizer._buffer(like, slot)
        if len(self.params) == 1:
            return array, [array]
        owner = array.base
        cached = self._splits.get(slot)
        if cached is None or cached[0] is not owner:
            cached = self._splits[slot] = (owner, [array[o:o + n].reshape(shape) for o, n, shape in self._parts])
        return array, cached[1]

    def intact(self, optimizer, names, key):
        """Whether every parameter's state is still the dict, holding the arrays, that the run was
        built on, with the same ``key`` (Adam's step count): ``load_state_dict``, a state tensor
        replaced or rebound, or a parameter skipped on a step undo a run."""
        first = key(self.states[0])
        for i, (p, state) in enumerate(zip(self.params, self.states)):
            if optimizer.state.get(p) is not state:
                return False
            for name in names:
                tensor = state.get(name)
                if tensor is None or tensor._data is not self.views[name][i]:
                    return False
            if i and key(state) != first:
                return False
        return True


def runs(optimizer, params, names, key):
    """``params`` (the group's parameters with a gradient, their state already made) in runs whose
    state arrays ``names`` are flat; ``key(state)`` must be equal within a run (Adam's step count).
    The runs are kept on the optimizer and rebuilt when the parameters or their state change."""
    plans = optimizer._flat_runs
    ids = tuple(map(id, params))
    plan = plans.get(ids)
    if plan is not None and all(run.intact(optimizer, names, key) for run in plan):
        return plan
    owned = set()
    for old in plans.values():
        for run in old:
            if len(run.params) > 1:
                owned.update(id(flat) for flat in run.flats.values())
    plan = _build(optimizer, params, names, key, owned)
    members = set(ids)
    for other in [k for k in plans if members.intersection(k)]:
        del plans[other]
    plans[ids] = plan
    return plan


def _build(optimizer, params, names, key, owned):
    plan, pending, pending_key, pending_size = [], [], None, 0

    def close():
        if pending:
            plan.append(_make_run(pending, names))

    for p in params:
        state = optimizer.state[p]
        arrays = [state[name]._data for name in names]
        member_key = _flat_key(p, state, arrays, key, owned)
        if member_key is None:  # updated alone, on its own arrays
            close()
            pending, pending_key, pending_size = [], None, 0
            plan.append(_make_run([(p, state)], names))
            continue
        size = arrays[0].size
        if member_key != pending_key or pending_size + size > _RUN_ELEMENTS:
            close()
            pending, pending_key, pending_size = [], member_key, 0
        pending.append((p, state))
        pending_size += size
    close()
    return plan


def _flat_key(p, state, arrays, key, owned):
    """What parameters must share to be updated together, or None for one updated alone."""
    data = p._data
    for array in arrays:
        if array.shape != data.shape or array.dtype != data.dtype or not array.flags.c_contiguous or not array.size:
            return None
        if array.base is not None and id(array.base) not in owned:
            return None  # not the optimizer's own array (shared memory, a user's view)
    return (backend.device_of(data), data.dtype, key(state))


def _make_run(members, names):
    params = [p for p, _ in members]
    states = [state for _, state in members]
    if len(members) == 1:  # its own arrays, whatever their layout: no parts to cut
        arrays = {name: states[0][name]._data for name in names}
        return Run(params, states, arrays, {n: [a] for n, a in arrays.items()}, [])
    parts, offset = [], 0
    for p in params:
        parts.append((offset, p._data.size, p._data.shape))
        offset += p._data.size
    first = states[0][names[0]]._data
    xp = backend.array_module(first)
    flats, views = {}, {}
    with backend.on_device(params[0].device):
        for name in names:
            flat = xp.empty(offset, dtype=first.dtype)
            views[name] = []
            for state, (o, n, shape) in zip(states, parts):
                view = flat[o:o + n].reshape(shape)
                xp.copyto(view, state[name]._data)
                # The state tensor keeps its identity (a reference the user holds sees the updates);
                # only its array moves into the flat one.
                state[name]._data = view
                views[name].append(view)
            flats[name] = flat
    return Run(params, states, flats, views, parts)


class Cut:
    """Some of a run's elements, for ``update``'s function: ``flat[name]``, that range of the
    run-wide array ``name``, and ``parts[name]``, the pieces inside it of each parameter's array
    ``name``, in the same order for every name (whole arrays, shaped as the parameters, when the
    run is not split)."""

    __slots__ = ("flat", "parts")

    def __init__(self, flat, parts):
        self.flat, self.parts = flat, parts


def update(run, flats, per_param, function, minimum):
    """``function(cut)`` over all of ``run``: ``flats`` maps names to (run-wide array, its
    per-parameter parts), as ``Run.flats``/``Run.views`` and ``Run.scratch`` give them;
    ``per_param`` maps names to one array per parameter (gradients, the parameters' data). On the
    CPU, with every array C-contiguous and at least ``minimum`` elements, ``function`` runs once per
    piece of the elements, each on its own core on OpenBLAS's threads (``_threads.server_pieces``),
    and must then only write inside its cut; else once, over everything."""
    first = next(iter(flats.values()))[0]
    arrays = [a for a, _ in flats.values()] + [a for group in per_param.values() for a in group]
    bounds = [0, first.size]
    if first.__class__ is np.ndarray and all(a.__class__ is np.ndarray and a.flags.c_contiguous for a in arrays):
        bounds = _threads.server_pieces(first.size, minimum)
    if len(bounds) == 2:
        function(Cut({name: a for name, (a, _) in flats.items()},
                     {**{name: parts for name, (_, parts) in flats.items()}, **per_param}))
        return
    # The cuts are made here, before the threads start: their Python would make them wait for
    # each other at the GIL.
    flat = {name: a.reshape(-1) for name, (a, _) in flats.items()}
    lines = {name: [a.reshape(-1) for a in group] for name, group in per_param.items()}
    layout = [(offset, size) for offset, size, _ in run._parts] or [(0, first.size)]
    cuts = {}
    for lo, hi in zip(bounds, bounds[1:]):
        parts = {name: [] for name in (*flat, *lines)}
        for i, (offset, size) in enumerate(layout):
            a, b = max(lo, offset), min(hi, offset + size)
            if a < b:
                for name, array in flat.items():
                    parts[name].append(array[a:b])
                for name, group in lines.items():
                    parts[name].append(group[i][a - offset:b - offset])
        cuts[lo] = Cut({name: array[lo:hi] for name, array in flat.items()}, parts)
    _threads.run(lambda lo, hi: function(cuts[lo]), bounds)
