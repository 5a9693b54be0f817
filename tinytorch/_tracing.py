"""Record the ops that one call of a model runs: what ``tinytorch.onnx.export`` translates to
ONNX and ``SummaryWriter.add_graph`` draws.

Every differentiable op goes through ``Function.apply``, the place where autograd records its
``grad_fn`` nodes; the recorder registers there as an autograd observer and keeps, for each op
called from the model's code (not the ops an op runs inside itself), the Function, its
arguments, its outputs and the module it ran in. It records the op stream rather than reading
the ``grad_fn`` graph back because a node keeps neither the non-tensor arguments (shapes, dims,
kernel sizes) nor the tensors that need no gradient (the input, constants, running statistics).
Ops that no Function runs (comparisons, argmax, tensor creation) are not recorded: their results
look like constants, which the exporter checks (it runs the model twice).
"""

from .autograd import _observe as observe
from .autograd.grad_mode import no_grad
from ._tensor import Tensor
from .nn.modules.module import Module


class Call:
    """One recorded op: ``function`` (a Function class, or the module class of an opaque module)
    applied to ``args``/``kwargs`` gave ``outputs`` (a tuple). ``versions`` holds each tensor
    argument's version counter at the call (None for other arguments), ``output_versions`` the
    outputs' right after it; ``scope`` is the path of modules it ran in as (name, module) pairs;
    ``source`` the user's line that called it."""

    __slots__ = ("function", "args", "kwargs", "outputs", "versions", "output_versions", "scope", "source", "module")

    def __init__(self, function, args, kwargs, outputs, versions, scope, source, module=None):
        self.function, self.args, self.kwargs, self.outputs = function, args, kwargs, outputs
        self.versions, self.scope, self.source, self.module = versions, scope, source, module
        self.output_versions = _versions(outputs)

    @property
    def name(self):
        return self.function.__name__


class Trace:
    """The calls of one run, the inputs it was given and the output the model returned."""

    def __init__(self, calls, inputs, input_versions, output):
        self.calls, self.inputs, self.input_versions, self.output = calls, inputs, input_versions, output
        outputs = output if isinstance(output, (tuple, list)) else (output,)
        self.output_versions = _versions(outputs)


class _Recorder:
    """The autograd observer (``forward_call``) plus the module hooks that track the scope."""

    record_source = False

    def __init__(self, opaque):
        self.calls = []
        self.depth = 0  # > 0 while an op runs: the ops it calls itself belong to it
        self.opaque = opaque  # module -> bool: record the whole module call as one op
        self.opaque_depth = 0
        self.opaque_versions = []  # the outermost opaque module's arguments' versions
        self.scope = []

    def forward_call(self, function, args, kwargs, run):
        if self.depth or self.opaque_depth:
            return run()
        versions = _versions(args)
        source = observe.user_source_line()
        self.depth += 1
        try:
            result = run()
        finally:
            self.depth -= 1
        outputs = result if isinstance(result, tuple) else (result,)
        self.calls.append(Call(function, tuple(args), dict(kwargs), outputs, versions, tuple(self.scope), source))
        return result

    def backward(self, node, run):
        return run()

    def pre_hook(self, name, module, args):
        self.scope.append((name, module))
        if self.opaque is not None and self.opaque(module):
            if not self.opaque_depth:
                self.opaque_versions = _versions(args)
            self.opaque_depth += 1

    def post_hook(self, module, args, output):
        self.scope.pop()
        if self.opaque is None or not self.opaque(module):
            return
        self.opaque_depth -= 1
        if not self.opaque_depth:
            versions = self.opaque_versions
            outputs = output if isinstance(output, tuple) else (output,)
            source = observe.user_source_line()
            self.calls.append(Call(type(module), tuple(args), {}, outputs, versions, tuple(self.scope), source, module))


def _versions(values):
    return tuple(v._version[0] if isinstance(v, Tensor) else None for v in values)


def trace(model, args, kwargs=None, opaque=None):
    """Run ``model(*args, **kwargs)`` once without grad and return its :class:`Trace`.

    ``opaque(module) -> bool`` picks modules recorded as one op (their inner ops are not)."""
    recorder = _Recorder(opaque)
    handles = []
    if isinstance(model, Module):
        for name, module in model.named_modules():
            handles.append(module.register_forward_pre_hook(lambda m, a, name=name: recorder.pre_hook(name, m, a)))
            handles.append(module.register_forward_hook(recorder.post_hook, always_call=True))
    input_versions = _versions(args)
    observe.add(recorder)
    try:
        with no_grad():
            output = model(*args, **(kwargs or {}))
    finally:
        observe.remove(recorder)
        for handle in handles:
            handle.remove()
    return Trace(recorder.calls, tuple(args), input_versions, output)
