"""The ONNX graph being built: node and value names, initializers, and what each recorded tensor
is called in the graph.

The exporter runs the model twice (trace A with the user's inputs, trace B with the dynamic axes
enlarged and the values shuffled) and translates the two op streams side by side, one call pair
at a time. A tensor argument is then one of: the output of an earlier recorded op (or a graph
input), a parameter or buffer of the model (an initializer under its state_dict name), or a
constant, which must be the same in both runs (else it was computed from the input by an op
that is not recorded, and the export stops). A number that differs between the two runs (a
shape) depends on a dynamic axis: ``shape_vector`` writes it as a graph computation.
"""

from fractions import Fraction

import numpy as np

from .. import _backend as backend
from .._tensor import Tensor

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


class OnnxExporterError(RuntimeError):
    """Raised when a model cannot be written in ONNX (PyTorch's ``torch.onnx.OnnxExporterError``)."""


class Symbol:
    """A dynamic axis: graph input ``input``'s axis ``axis``, sized ``size_a`` / ``size_b`` in the two runs."""

    __slots__ = ("name", "input", "axis", "size_a", "size_b")

    def __init__(self, name, input, axis, size_a, size_b):
        self.name, self.input, self.axis, self.size_a, self.size_b = name, input, axis, size_a, size_b


class Graph:
    """Nodes and initializers, written through the ``onnx`` package (passed in: an optional
    dependency, imported only by ``export``)."""

    def __init__(self, onnx, opset, parameters):
        self.onnx, self.opset = onnx, opset
        self.nodes, self.initializers = [], []
        self.taken = set()
        # Per trace (0: A, 1: B): id(tensor) -> [name, version, tensor]; id(array) -> name (index
        # arrays arrive as arrays); id(tensor) -> (name, version) of the last op that read it first
        # (an in-place op: the tensor's next version is that op's output).
        self.values, self.arrays, self.pending = ({}, {}), ({}, {}), ({}, {})
        self.parameters = {id(tensor): name for name, tensor in parameters}
        self.named = {}  # id(parameter or constant tensor) -> its initializer's name
        self.symbols = []
        self.symbol_dims = {}
        self.a = self.b = None
        self.scope = ""

    # -- names and nodes ----------------------------------------------------------------------
    def fresh(self, hint):
        name, n = hint, 0
        while name in self.taken:
            n += 1
            name = f"{hint}_{n}"
        self.taken.add(name)
        return name

    def node(self, op_type, inputs, outputs=1, **attributes):
        """Add a node; returns its output's name (a list of names when ``outputs`` > 1)."""
        prefix = f"/{self.scope}/" if self.scope else "/"
        names = [self.fresh(f"{prefix}{op_type}_output_{i}") for i in range(outputs)]
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), names, name=self.fresh(f"{prefix}{op_type}"), **attributes))
        return names if outputs > 1 else names[0]

    def constant(self, array, hint="constant"):
        name = self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.array(array, order="C"), name))
        return name

    def int64s(self, values):
        return self.constant(np.asarray(list(values), dtype=np.int64), "shape")

    def scalar(self, value, dtype):
        return self.constant(np.asarray(value, dtype=dtype), "scalar")

    def cast(self, name, dtype):
        return self.node("Cast", [name], to=self.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))

    # -- the call pair being translated -------------------------------------------------------
    @property
    def out_dtype(self):
        return self.a.outputs[0]._data.dtype

    def fail(self, message):
        raise OnnxExporterError(f"tinytorch.onnx.export: {self.a.name} ({message}), called at {self.a.source}")

    def static(self, i, what=None):
        """Argument ``i`` (not a tensor), which must not depend on a dynamic axis."""
        value_a, value_b = self.a.args[i], self.b.args[i]
        if not same(value_a, value_b):
            self.fail(f"its {what or f'argument {i}'} changes with the dynamic axes: {value_a!r} and {value_b!r}")
        return value_a

    def shapes(self, i):
        return tuple(self.a.args[i]._data.shape), tuple(self.b.args[i]._data.shape)

    def input(self, i, dtype=None):
        """The graph name of argument ``i``: a tensor (cast to ``dtype`` when given), or a number
        as a 0-d constant of ``dtype`` (default: the output's), or '' for None."""
        value_a, value_b = self.a.args[i], self.b.args[i]
        if isinstance(value_a, Tensor):
            name = self.tensor(value_a, value_b, self.a.versions[i], self.b.versions[i], f"argument {i}")
            if dtype is not None and value_a._data.dtype != dtype:
                name = self.cast(name, dtype)
            return name
        if value_a is None:
            return ""
        if isinstance(value_a, (bool, int, float, np.number)):
            if value_a != value_b:
                self.fail(f"its argument {i} changes with the inputs: {value_a!r} and {value_b!r}")
            return self.scalar(value_a, dtype or self.out_dtype)
        self.fail(f"its argument {i} is a {type(value_a).__name__}, not a tensor")

    def array_input(self, array_a, array_b, what):
        """An index array of argument ``what``: an input's (or an op's) data, or a constant."""
        name_a, name_b = self.arrays[0].get(id(array_a), (None,))[0], self.arrays[1].get(id(array_b), (None,))[0]
        if name_a is not None or name_b is not None:
            if name_a != name_b:
                self.fail(f"its {what} comes from different tensors in the two runs")
            return name_a
        return self.constant_array(array_a, array_b, what)

    # -- resolving recorded tensors -------------------------------------------------------------
    def bind(self, trace, tensor, name, version):
        self.values[trace][id(tensor)] = [name, version, tensor]
        self.arrays[trace][id(tensor._data)] = (name, tensor, version)

    def tensor(self, tensor_a, tensor_b, version_a, version_b, what):
        name_a = self._lookup(0, tensor_a, version_a, what)
        name_b = self._lookup(1, tensor_b, version_b, what)
        if name_a is not None or name_b is not None:
            if name_a != name_b:
                self.fail(f"its {what} comes from different ops in the two runs")
            return name_a
        parameter = self.parameters.get(id(tensor_a))
        if parameter is not None and tensor_a is tensor_b:
            if id(tensor_a) not in self.named:
                self.named[id(tensor_a)] = self.constant(backend.to_numpy(tensor_a._data), parameter)
            return self.named[id(tensor_a)]
        if id(tensor_a) in self.named:
            return self.named[id(tensor_a)]
        name = self.constant_array(tensor_a._data, tensor_b._data, what)
        self.named[id(tensor_a)] = name
        return name

    def constant_array(self, array_a, array_b, what):
        host_a, host_b = backend.to_numpy(array_a), backend.to_numpy(array_b)
        if host_a.shape != host_b.shape or host_a.dtype != host_b.dtype or not np.array_equal(host_a, host_b, equal_nan=host_a.dtype.kind in "fc"):
            self.fail(
                f"its {what} (shape {list(host_a.shape)}) depends on the inputs but was computed by an operation "
                "that is not recorded: comparisons, argmax, tensor creation and other ops without a gradient "
                "are not, so their results cannot be exported"
            )
        return self.constant(host_a, "constant")

    def _lookup(self, trace, tensor, version, what):
        entry = self.values[trace].get(id(tensor))
        if entry is None:
            # A detached tensor: the same array and version counter as a recorded one, unchanged.
            name, owner, bound = self.arrays[trace].get(id(tensor._data), (None, None, None))
            if owner is not None and owner._version is tensor._version and version == bound:
                return name
            return None
        name, bound = entry[0], entry[1]
        if version == bound:
            return name
        pending = self.pending[trace].get(id(tensor))
        if pending is not None and pending[1] == bound and version == bound + 1:
            self.values[trace][id(tensor)] = [pending[0], version, tensor]
            return pending[0]
        self.fail(f"its {what} was modified in place by an operation that is not recorded")

    # -- shapes that may depend on a dynamic axis -----------------------------------------------
    def add_symbol(self, name, input, axis, size_a, size_b):
        self.symbols.append(Symbol(name, input, axis, size_a, size_b))

    def fit(self, size_a, size_b):
        """The dynamic axis a size is a fixed multiple of, and the factor; None when none or several."""
        found = {}
        for symbol in self.symbols:
            if size_a * symbol.size_b == size_b * symbol.size_a and symbol.name not in found:
                found[symbol.name] = (symbol, Fraction(size_a, symbol.size_a))
        return next(iter(found.values())) if len(found) == 1 else None

    def symbol_size(self, symbol, factor):
        """A 1-element int64 tensor: the symbol's size at run time times ``factor``."""
        key = (symbol.input, symbol.axis)
        if key not in self.symbol_dims:
            shape = self.node("Shape", [symbol.input])
            self.symbol_dims[key] = self.node("Gather", [shape, self.int64s([symbol.axis])], axis=0)
        size = self.symbol_dims[key]
        if factor.numerator != 1:
            size = self.node("Mul", [size, self.int64s([factor.numerator])])
        if factor.denominator != 1:
            size = self.node("Div", [size, self.int64s([factor.denominator])])
        return size

    def shape_vector(self, target_a, target_b, source=None, mode="exact"):
        """A 1-D int64 tensor giving ``target_a`` in run A and ``target_b`` in run B.

        ``mode`` 'reshape' may copy a dim from ``source`` (the input's shapes) with 0 and infer one
        with -1; 'expand' may keep an input dim with 1. Other dims that change with the dynamic
        axes are computed from the inputs' shapes at run time."""
        if len(target_a) != len(target_b):
            self.fail(f"its rank changes with the dynamic axes: {list(target_a)} and {list(target_b)}")
        dims, unresolved = [], []
        source_a, source_b = source or ((), ())
        offset = len(target_a) - len(source_a)  # expand aligns the input's dims to the right
        for i, (size_a, size_b) in enumerate(zip(target_a, target_b)):
            if size_a == size_b:
                dims.append(size_a)
            elif mode == "reshape" and i < len(source_a) and (source_a[i], source_b[i]) == (size_a, size_b):
                dims.append(0)
            elif mode == "expand" and i >= offset and (source_a[i - offset], source_b[i - offset]) == (size_a, size_b):
                dims.append(1)
            else:
                dims.append(None)
                unresolved.append(i)
        if mode == "reshape" and len(unresolved) == 1:
            dims[unresolved[0]] = -1
            unresolved = []
        pieces = []
        for i in unresolved:
            fitted = self.fit(target_a[i], target_b[i])
            if fitted is None:
                self.fail(f"its shape {list(target_a)} has a size that is no fixed multiple of one dynamic axis")
            dims[i] = self.symbol_size(*fitted)
        if not unresolved:
            return self.int64s(dims)
        run = []
        for dim in dims:
            if isinstance(dim, str):
                if run:
                    pieces.append(self.int64s(run))
                    run = []
                pieces.append(dim)
            else:
                run.append(dim)
        if run:
            pieces.append(self.int64s(run))
        return self.node("Concat", pieces, axis=0)


def same(x, y):
    """Whether two recorded non-tensor arguments are equal (numbers, tuples, arrays, geometries)."""
    if isinstance(x, (tuple, list)):
        return isinstance(y, (tuple, list)) and len(x) == len(y) and all(same(p, q) for p, q in zip(x, y))
    if hasattr(x, "__array_interface__") or backend.is_cuda_array(x):
        return hasattr(y, "shape") and x.shape == y.shape and bool((backend.to_numpy(x) == backend.to_numpy(y)).all())
    slots = getattr(type(x), "__slots__", None)
    if slots and type(x) is type(y):
        return all(same(getattr(x, s), getattr(y, s)) for s in slots)
    if hasattr(x, "__dict__") and type(x) is type(y) and not isinstance(x, type):
        return same(tuple(vars(x).values()), tuple(vars(y).values()))
    return x == y
