"""``export``: run the model, translate the recorded ops to ONNX nodes, write the model."""

import warnings

import numpy as np

from .. import _backend as backend, _tracing
from .._tensor import Tensor
from ..nn.modules.module import Module
from ..nn.modules.normalization import _BatchNorm
from ._converters import CONVERTERS, DYNAMIC_ARGUMENTS
from ._graph import Graph, OnnxExporterError, same

DEFAULT_OPSET = 20  # PyTorch 2.13's default
MIN_OPSET = 13  # Softmax's axis, ReduceSum's and Split's inputs, Unsqueeze's axes input
# Each dynamic axis grows by its own prime in the second run, so that a size that follows one
# axis (B * heads) is told apart from one that follows another (the sequence length).
_FACTORS = (2, 3, 5, 7, 11, 13)


class _State:
    exporting = False


state = _State()


def export(model, args=(), f=None, *, kwargs=None, verbose=None, input_names=None, output_names=None,
           opset_version=None, dynamic_axes=None, dynamo=True):
    """Export ``model`` to ONNX: run it on ``args`` (a tensor or a tuple), translate the ops it
    ran to ONNX nodes with the ``onnx`` package, check the model and save it to ``f`` (a path
    or a binary file; None: not saved). Returns the ``onnx.ModelProto``.

    ``input_names``/``output_names`` name the graph's inputs and outputs; ``dynamic_axes`` maps
    a name to the axes whose size may change (``{"input": {0: "batch"}}`` or ``{"input": [0]}``);
    ``opset_version`` defaults to 20. The model runs in eval mode (dropout is the identity,
    batch norm uses its running statistics) and is put back in its mode afterwards. ``dynamo``
    is accepted for PyTorch's signature: tinytorch has one exporter, which records the ops.
    Raises ``OnnxExporterError`` naming the first op it cannot express and the line that ran it.
    """
    try:
        import onnx
    except ImportError:
        raise ImportError("tinytorch.onnx.export needs the onnx package: pip install 'tinytorch[onnx]'") from None
    args, kwargs = _split_arguments(args, kwargs)
    newest = onnx.defs.onnx_opset_version()
    opset = min(DEFAULT_OPSET, newest) if opset_version is None else opset_version
    if not isinstance(opset, int) or not MIN_OPSET <= opset <= newest:
        raise ValueError(f"tinytorch.onnx.export: opset_version must be an int from {MIN_OPSET} to {newest} (the installed onnx's newest), got {opset!r}")
    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    names = _names(input_names, len(positions), "input", "input_names")
    dynamic = _dynamic_axes(dynamic_axes)
    modes = [(m, m.training) for m in model.modules()] if isinstance(model, Module) else []
    state.exporting = True
    try:
        if isinstance(model, Module):
            model.eval()
        trace_a = _tracing.trace(model, args, kwargs, _recorded_whole)
        factors = _factors(dynamic, names)
        args_b = list(args)
        rng = np.random.default_rng(0)
        for position, name in zip(positions, names):
            args_b[position] = _enlarged(args[position], dynamic.get(name, {}), factors, rng)
        trace_b = _tracing.trace(model, tuple(args_b), kwargs, _recorded_whole)
        outputs = _flat_outputs(trace_a.output), _flat_outputs(trace_b.output)
        output_names = _names(output_names, len(outputs[0]), "output", "output_names")
        for name in dynamic:
            if name not in names and name not in output_names:
                warnings.warn(f"Provided key {name} for dynamic axes is not a valid input/output name", stacklevel=2)
        parameters = list(model.named_parameters()) + list(model.named_buffers()) if isinstance(model, Module) else []
        graph = Graph(onnx, opset, parameters)
        inputs = _bind_inputs(graph, onnx, trace_a, trace_b, positions, names, dynamic)
        for call_a, call_b in zip(trace_a.calls, trace_b.calls):
            _translate(graph, call_a, call_b)
        if len(trace_a.calls) != len(trace_b.calls):
            raise OnnxExporterError("tinytorch.onnx.export: the model ran different ops for inputs of another size or value (control flow on the data)")
        graph_outputs = _bind_outputs(graph, onnx, trace_a, trace_b, outputs, output_names, dynamic)
    finally:
        state.exporting = False
        for module, training in modes:
            module.training = training
    opsets = [onnx.helper.make_opsetid("", opset)]
    model_proto = onnx.helper.make_model(
        onnx.helper.make_graph(graph.nodes, "main_graph", inputs, graph_outputs, graph.initializers),
        opset_imports=opsets, producer_name="tinytorch",
    )
    model_proto.ir_version = onnx.helper.find_min_ir_version_for(opsets)
    onnx.checker.check_model(model_proto)
    if verbose:
        print(onnx.helper.printable_graph(model_proto.graph))
    if f is not None:
        onnx.save(model_proto, f)
    return model_proto


def _recorded_whole(module):
    """Modules recorded as one op: a BatchNorm on running statistics is one BatchNormalization."""
    return isinstance(module, _BatchNorm) and not module.training and module.running_mean is not None


def _split_arguments(args, kwargs):
    if isinstance(args, Tensor):
        args = (args,)
    elif isinstance(args, list):
        args = tuple(args)
    elif not isinstance(args, tuple):
        raise TypeError(f"tinytorch.onnx.export: args must be a tensor or a tuple of arguments, got {type(args).__name__}")
    if args and isinstance(args[-1], dict) and kwargs is None:  # PyTorch's convention: a last dict holds keyword arguments
        args, kwargs = args[:-1], args[-1]
    return args, dict(kwargs or {})


def _names(given, count, prefix, what):
    given = list(given or [])
    if len(given) > count:
        raise ValueError(f"tinytorch.onnx.export: {len(given)} {what} for {count} {prefix}s")
    if len(set(given)) != len(given):
        raise ValueError(f"tinytorch.onnx.export: {what} holds a name twice: {given}")
    default = [prefix] if count == 1 else [f"{prefix}_{i}" for i in range(count)]
    return given + [name for name in default[len(given):]]


def _dynamic_axes(dynamic_axes):
    """{name: {axis: dim name}} from PyTorch's two forms (a dict per name, or a list of axes)."""
    result = {}
    for name, axes in (dynamic_axes or {}).items():
        if isinstance(axes, dict):
            result[name] = {int(axis): str(dim) for axis, dim in axes.items()}
        elif isinstance(axes, (list, tuple)):
            result[name] = {int(axis): f"{name}_dynamic_axes_{i + 1}" for i, axis in enumerate(axes)}
        else:
            raise TypeError(f"tinytorch.onnx.export: dynamic_axes[{name!r}] must be a dict or a list of axes, got {type(axes).__name__}")
    return result


def _factors(dynamic, input_names):
    factors = {}
    for name in input_names:
        for dim in dynamic.get(name, {}).values():
            if dim not in factors:
                factors[dim] = _FACTORS[len(factors) % len(_FACTORS)]
    return factors


def _enlarged(tensor, axes, factors, rng):
    """The input of the second run: each dynamic axis grown by its factor, the values shuffled."""
    data = backend.to_numpy(tensor._data)
    for axis, dim in axes.items():
        if not -data.ndim <= axis < data.ndim:
            raise ValueError(f"tinytorch.onnx.export: dynamic axis {axis} of an input of shape {list(data.shape)}")
        data = np.concatenate([data] * factors[dim], axis=axis)
    flat = data.reshape(-1)
    data = flat[rng.permutation(flat.size)].reshape(data.shape)
    return Tensor._make(backend.to_device(np.ascontiguousarray(data), tensor.device))


def _flat_outputs(output):
    values = list(output) if isinstance(output, (tuple, list)) else [output]
    if not values or not all(isinstance(v, Tensor) for v in values):
        raise OnnxExporterError("tinytorch.onnx.export: the model must return a tensor or a tuple or list of tensors")
    return values


def _value_info(onnx, name, array, dims):
    return onnx.helper.make_tensor_value_info(name, onnx.helper.np_dtype_to_tensor_dtype(array.dtype), dims)


def _bind_inputs(graph, onnx, trace_a, trace_b, positions, names, dynamic):
    inputs = []
    for position, name in zip(positions, names):
        tensor_a, tensor_b = trace_a.inputs[position], trace_b.inputs[position]
        graph.taken.add(name)
        graph.bind(0, tensor_a, name, trace_a.input_versions[position])
        graph.bind(1, tensor_b, name, trace_b.input_versions[position])
        dims = list(tensor_a._data.shape)
        for axis, dim in dynamic.get(name, {}).items():
            axis %= len(dims)
            graph.add_symbol(dim, name, axis, tensor_a._data.shape[axis], tensor_b._data.shape[axis])
            dims[axis] = dim
        inputs.append(_value_info(onnx, name, tensor_a._data, dims))
    return inputs


def _translate(graph, call_a, call_b):
    graph.a, graph.b = call_a, call_b
    graph.scope = "/".join(name for name, _ in call_a.scope if name)
    function = call_a.function
    if call_b.function is not function:
        graph.fail(f"the second run called {call_b.name} here instead: the model's ops depend on its inputs")
    convert = next((CONVERTERS[c] for c in function.__mro__ if c in CONVERTERS), None)
    if convert is None:
        graph.fail("ONNX export does not support this op; it is the first one the model ran that cannot be expressed")
    allowed = next((DYNAMIC_ARGUMENTS[c] for c in function.__mro__ if c in DYNAMIC_ARGUMENTS), frozenset())
    for i, (value_a, value_b) in enumerate(zip(call_a.args, call_b.args)):
        if i not in allowed and not isinstance(value_a, Tensor) and not same(value_a, value_b):
            graph.fail(f"its argument {i} changes with the dynamic axes: {value_a!r} and {value_b!r}")
    names = convert(graph)
    names = names if isinstance(names, list) else [names]
    for k, name in enumerate(names):
        for trace, call in ((0, call_a), (1, call_b)):
            output = call.outputs[k]
            if isinstance(output, Tensor):
                graph.bind(trace, output, name, call.output_versions[k])
    for trace, call in ((0, call_a), (1, call_b)):
        if call.args and isinstance(call.args[0], Tensor) and call.module is None:
            graph.pending[trace][id(call.args[0])] = (names[0], call.versions[0])


def _bind_outputs(graph, onnx, trace_a, trace_b, outputs, output_names, dynamic):
    graph.a = graph.b = None
    graph.scope = ""
    result = []
    for k, (tensor_a, tensor_b, name) in enumerate(zip(*outputs, output_names)):
        graph.a = _OutputCall(trace_a, k)
        graph.b = _OutputCall(trace_b, k)
        source = graph.tensor(tensor_a, tensor_b, trace_a.output_versions[k], trace_b.output_versions[k], "value")
        graph.taken.add(name)
        graph.nodes.append(onnx.helper.make_node("Identity", [source], [name], name=graph.fresh(f"/{name}/Identity")))
        dims = []
        declared = dynamic.get(name, {})
        for axis, (size_a, size_b) in enumerate(zip(tensor_a._data.shape, tensor_b._data.shape)):
            if axis in declared or axis - tensor_a._data.ndim in declared:
                dims.append(declared.get(axis, declared.get(axis - tensor_a._data.ndim)))
            elif size_a == size_b:
                dims.append(size_a)
            else:
                fitted = graph.fit(size_a, size_b)
                dims.append(fitted[0].name if fitted and fitted[1] == 1 else f"{name}_dynamic_axes_{axis + 1}")
        result.append(_value_info(onnx, name, tensor_a._data, dims))
    return result


class _OutputCall:
    """Stands in for a call while the model's outputs are resolved (for error messages)."""

    def __init__(self, trace, k):
        self.name = f"output {k}"
        self.source = "the model's return"
        self.outputs = (_flat_outputs(trace.output)[k],)
