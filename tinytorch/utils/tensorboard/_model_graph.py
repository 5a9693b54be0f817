"""The GraphDef that ``SummaryWriter.add_graph`` writes: one node per op the model ran (recorded
by ``tinytorch._tracing``), named by the modules it ran in, so that TensorBoard's graph tab
folds each module into a box as it does for PyTorch's traced graphs."""

from tensorboard.compat.proto.attr_value_pb2 import AttrValue
from tensorboard.compat.proto.config_pb2 import RunMetadata
from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.compat.proto.node_def_pb2 import NodeDef
from tensorboard.compat.proto.step_stats_pb2 import DeviceStepStats, StepStats
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.versions_pb2 import VersionDef

from ... import _tracing
from ..._tensor import Tensor
from ...nn.modules.module import Module


def _attributes(shapes, text=None):
    attributes = {"_output_shapes": AttrValue(list=AttrValue.ListValue(shape=[
        TensorShapeProto(dim=[TensorShapeProto.Dim(size=s) for s in shape]) for shape in shapes
    ]))}
    if text:
        attributes["attr"] = AttrValue(s=text.encode("utf_8"))
    return attributes


def _scope(root, scope):
    """'Net/Conv2d[conv1]': the model's class, then each module as Class[attribute name]."""
    parts = [type(root).__name__]
    for name, module in scope:
        if name:
            parts.append(f"{type(module).__name__}[{name.rsplit('.', 1)[-1]}]")
    return "/".join(parts)


def graph(model, args, verbose=False):
    """(GraphDef, RunMetadata) of one run of ``model`` on ``args``, as PyTorch's ``graph()`` returns."""
    args = tuple(args) if isinstance(args, (tuple, list)) else ((args,) if args is not None else ())
    training = [(m, m.training) for m in model.modules()] if isinstance(model, Module) else []
    if isinstance(model, Module):
        model.eval()
    try:
        trace = _tracing.trace(model, args)
    finally:
        for module, mode in training:
            module.training = mode
    root = model
    nodes, names, pending, taken = [], {}, {}, set()
    parameters = {}
    if isinstance(model, Module):
        scopes = {}
        for path, module in model.named_modules():
            parent, _, name = path.rpartition(".")
            scopes[path] = f"{scopes[parent]}/{type(module).__name__}[{name}]" if path else type(model).__name__
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            path, _, leaf = name.rpartition(".")
            parameters[id(t)] = f"{scopes[path]}/{leaf}"

    def fresh(name):
        candidate, n = name, 0
        while candidate in taken:
            n += 1
            candidate = f"{name}_{n}"
        taken.add(candidate)
        return candidate

    def resolve(tensor, version, scope):
        entry = names.get(id(tensor))
        if entry is not None:
            if entry[1] == version or version is None:
                return entry[0]
            if id(tensor) in pending:  # changed in place by the last op that read it first
                names[id(tensor)] = (pending[id(tensor)], version)
                return names[id(tensor)][0]
        if id(tensor) in parameters:
            name = fresh(parameters[id(tensor)])
            nodes.append(NodeDef(name=name, op="Parameter", attr=_attributes([tuple(tensor.shape)])))
        else:
            name = fresh(f"{scope}/Constant")
            nodes.append(NodeDef(name=name, op="Constant", attr=_attributes([tuple(tensor.shape)])))
        names[id(tensor)] = (name, version)
        return name

    for i, (tensor, version) in enumerate(zip(trace.inputs, trace.input_versions)):
        if isinstance(tensor, Tensor):
            name = fresh(f"input/input.{i}")
            nodes.append(NodeDef(name=name, op="IO Node", attr=_attributes([tuple(tensor.shape)])))
            names[id(tensor)] = (name, version)
    for call in trace.calls:
        scope = _scope(root, call.scope)
        inputs, described = [], []
        for arg, version in zip(call.args, call.versions):
            if isinstance(arg, Tensor):
                inputs.append(resolve(arg, version, scope))
            else:
                described.append(repr(arg) if not hasattr(arg, "__slots__") else type(arg).__name__)
        name = fresh(f"{scope}/{call.name}")
        shapes = [tuple(o.shape) for o in call.outputs if isinstance(o, Tensor)]
        nodes.append(NodeDef(name=name, op=call.name, input=inputs, attr=_attributes(shapes, ", ".join(described)[:200])))
        for k, (output, version) in enumerate(zip(call.outputs, call.output_versions)):
            if isinstance(output, Tensor):
                names[id(output)] = (name if k == 0 else f"{name}:{k}", version)
        if call.args and isinstance(call.args[0], Tensor):
            pending[id(call.args[0])] = name
    outputs = trace.output if isinstance(trace.output, (tuple, list)) else (trace.output,)
    for i, (tensor, version) in enumerate(zip(outputs, trace.output_versions)):
        if isinstance(tensor, Tensor):
            source = resolve(tensor, version, type(root).__name__)
            nodes.append(NodeDef(name=fresh(f"output/output.{i}"), op="IO Node", input=[source], attr=_attributes([tuple(tensor.shape)])))
    if verbose:
        for node in nodes:
            print(f"{node.name} = {node.op}({', '.join(node.input)})")
    stats = RunMetadata(step_stats=StepStats(dev_stats=[DeviceStepStats(device="/device:CPU:0")]))
    return GraphDef(node=nodes, versions=VersionDef(producer=22)), stats
