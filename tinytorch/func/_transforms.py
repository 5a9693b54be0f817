"""torch.func's transforms (without vmap): grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian.

PyTorch runs each transform at a functorch "level" that wraps tensors. Here a level is plain
reverse-mode autograd: each differentiated input becomes a tensor that requires grad (a view of the
input when the input already requires grad, so that the caller's graph stays connected; otherwise a
fresh leaf on a detached copy), and every gradient is taken with ``create_graph=True``, so transforms
nest (``grad(grad(f))``, ``jacrev(jacrev(f))``, ``hessian = jacfwd(jacrev(f))``). On the way out a
result keeps its graph only where it reaches something outside the level (the caller's tensors that
require grad, or an outer level's inputs), as PyTorch's unwrapping does; otherwise it is detached.

``jvp`` and ``jacfwd`` use the double-vjp trick instead of forward-mode AD: with ``g = J^T u`` for a
dummy ``u`` (``g`` is linear in ``u``), the vjp of ``g`` with the tangent ``v`` is ``J v``. It costs
about two reverse passes per tangent. ``vmap`` is not used: ``jacrev`` runs one vjp per output
element and ``jacfwd`` one jvp per input element (``chunk_size`` and ``randomness`` are accepted).
"""

import functools
import threading
import weakref

from .._tensor import Tensor
from .._ops import stack
from ..autograd import _api
from ..autograd.function import AccumulateGrad
from ..autograd.grad_mode import enable_grad, is_grad_enabled


# -- pytrees: nested tuples, lists and dicts of leaves (None is a leaf), as torch.utils._pytree's -----
class _Spec:
    """The structure of a pytree: ``kind`` is None for a leaf, else the container's type."""

    __slots__ = ("kind", "keys", "children")

    def __init__(self, kind=None, keys=None, children=()):
        self.kind, self.keys, self.children = kind, keys, tuple(children)

    def __eq__(self, other):
        return (isinstance(other, _Spec) and self.kind is other.kind and self.keys == other.keys
                and self.children == other.children)

    def __hash__(self):
        return hash((self.kind, self.children))

    def __repr__(self, indent=0):  # torch's TreeSpec repr: TreeSpec(tuple, None, [*, ...])
        if self.kind is None:
            return "*"
        indent += 2
        children = [child.__repr__(indent) for child in self.children]
        return f"TreeSpec({self.kind.__name__}, {self.keys}, [" + (",\n" + " " * indent).join(children) + "])"


class _Asterisk:
    def __repr__(self):
        return "*"


def _pprint(spec):
    """The structure written as the tree itself with ``*`` for leaves (torch's treespec_pprint)."""
    leaves = [_Asterisk()] * _count_leaves(spec)
    return repr(_unflatten(leaves, spec))


def _count_leaves(spec):
    return 1 if spec.kind is None else sum(_count_leaves(child) for child in spec.children)


def _flatten(tree):
    leaves = []
    return leaves, _flatten_into(tree, leaves)


def _flatten_into(tree, leaves):
    if isinstance(tree, (tuple, list)):
        return _Spec(type(tree), None, [_flatten_into(child, leaves) for child in tree])
    if isinstance(tree, dict):
        keys = list(tree)
        return _Spec(dict, keys, [_flatten_into(tree[k], leaves) for k in keys])
    leaves.append(tree)
    return _Spec()


def _unflatten(leaves, spec):
    return _build(iter(leaves), spec)


def _build(leaves, spec):
    if spec.kind is None:
        return next(leaves)
    children = [_build(leaves, child) for child in spec.children]
    if spec.kind is dict:
        return dict(zip(spec.keys, children))
    if hasattr(spec.kind, "_fields"):  # a namedtuple
        return spec.kind(*children)
    return spec.kind(children)


def _tree_map(fn, tree):
    leaves, spec = _flatten(tree)
    return _unflatten([fn(leaf) for leaf in leaves], spec)


# -- levels --------------------------------------------------------------------------------------
class _Depth(threading.local):
    value = 0


_depth = _Depth()
# id(tensor) -> (weak reference, depth): the leaves a transform created (a detached input made
# differentiable, a jvp's dummy cotangent). A graph that reaches only these is internal to a level.
_fresh_leaves = {}


def _register(leaf, depth):
    key = id(leaf)
    _fresh_leaves[key] = (weakref.ref(leaf, lambda _, key=key: _fresh_leaves.pop(key, None)), depth)
    return leaf


def _is_internal_leaf(tensor, depth):
    entry = _fresh_leaves.get(id(tensor))
    return entry is not None and entry[0]() is tensor and entry[1] >= depth


def _reaches_outside(tensor, depth):
    """Whether ``tensor``'s graph reaches a leaf that no level at ``depth`` or deeper created."""
    if tensor.grad_fn is None:
        return not _is_internal_leaf(tensor, depth)
    stack_, seen = [tensor.grad_fn], {id(tensor.grad_fn)}
    while stack_:
        node = stack_.pop()
        for edge in getattr(node, "_edges", ()):
            if edge is None:
                continue
            parent = edge[0]
            if isinstance(parent, AccumulateGrad):
                if not _is_internal_leaf(parent.variable, depth):
                    return True
            elif id(parent) not in seen:
                seen.add(id(parent))
                stack_.append(parent)
    return False


class _Level:
    """One transform's scope: grad mode on inside, inputs made differentiable, results unwrapped."""

    def __enter__(self):
        self.grad_enabled = is_grad_enabled()  # outside: results keep a graph only with grad mode on
        _depth.value += 1
        self.depth = _depth.value
        self._grad_mode = enable_grad()
        self._grad_mode.__enter__()
        return self

    def __exit__(self, *exc):
        self._grad_mode.__exit__(*exc)
        _depth.value -= 1

    def differentiable(self, x):
        if not isinstance(x, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
        if x.requires_grad:
            return x.view_as(x)
        if not (x.is_floating_point() or x.is_complex()):
            raise RuntimeError("only Tensors of floating point dtype can require gradients")  # functorch's words
        return _register(x.detach().requires_grad_(), self.depth)

    def dummy_like(self, x):
        return _register(x.new_zeros(x.shape).requires_grad_(), self.depth)

    def unwrap(self, tree):
        return _tree_map(self._unwrap_tensor, tree)

    def unwrap_aux(self, aux):
        """Like ``unwrap``, but, as PyTorch, an aux output may hold only tensors."""
        return self.unwrap(_tree_map(_only_tensors, aux))

    def _unwrap_tensor(self, x):
        if not isinstance(x, Tensor) or not x.requires_grad:
            return x
        if self.grad_enabled and _reaches_outside(x, self.depth):
            return x
        return x.detach()


def _only_tensors(x):
    if not isinstance(x, Tensor):
        raise RuntimeError(f"Expected tensors, got unsupported type {type(x)}")
    return x


def _grad_or_zeros(outputs, inputs, grad_outputs=None, retain_graph=True, create_graph=True):
    """autograd.grad over the outputs that require grad; zeros for inputs they do not reach."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(out, g) for out, g in zip(outputs, grad_outputs) if out.requires_grad]
    grads = (None,) * len(inputs)
    if pairs:
        diff_outputs, diff_grad_outputs = zip(*pairs)
        grads = _api.grad(diff_outputs, inputs, diff_grad_outputs, retain_graph=retain_graph,
                          create_graph=create_graph, allow_unused=True)
    return tuple(inp.new_zeros(inp.shape) if g is None else g for g, inp in zip(grads, inputs))


# -- argument checks (PyTorch's messages) ----------------------------------------------------------
def _validate_and_wrap_argnum(argnum, num_args):
    if not isinstance(argnum, int):
        raise RuntimeError(f"argnum must be int, got: {type(argnum)}")
    if 0 <= argnum < num_args:
        return argnum
    if -num_args <= argnum < 0:
        return argnum + num_args
    raise RuntimeError(f"Got argnum={argnum}, but only {num_args} positional inputs")


def _slice_argnums(args, argnums, as_tuple=True):
    if not isinstance(argnums, (int, tuple)):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    if isinstance(argnums, int):
        argnums = _validate_and_wrap_argnum(argnums, len(args))
        return (args[argnums],) if as_tuple else args[argnums]
    argnums = tuple(_validate_and_wrap_argnum(a, len(args)) for a in argnums)
    if len(argnums) == 0:
        raise RuntimeError("argnums must be non-empty")
    if len(set(argnums)) != len(argnums):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return tuple(args[i] for i in argnums)


def _replace_args(old_args, new_args, argnums):
    """``old_args`` with the arguments at ``argnums`` replaced by ``new_args`` (a tuple, in argnums' order)."""
    if isinstance(argnums, int):
        argnums = (_validate_and_wrap_argnum(argnums, len(old_args)),)
    else:
        argnums = tuple(_validate_and_wrap_argnum(a, len(old_args)) for a in argnums)
    return tuple(new_args[argnums.index(i)] if i in argnums else old_args[i] for i in range(len(old_args)))


def _assert_non_empty_tensor_output(output, api):
    if (len(output) == 1 and output[0] is None) or len(output) < 1:
        raise RuntimeError(f"{api}: Expected f to be a function that has non-empty output (got output = {output})")
    for o in output:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{api}: expected f(*primals) to return only tensors, got unsupported type {type(o)}")


def _error_if_complex(func_name, args, is_input):
    flat_args, _ = _flatten(args)
    for idx, arg in enumerate(flat_args):
        if isinstance(arg, Tensor) and arg.is_complex():
            input_or_output = "inputs" if is_input else "outputs"
            raise RuntimeError(
                f"{func_name}: Expected all {input_or_output} to be real but received complex tensor at flattened"
                f" input idx: {idx}"
            )


def _split_aux(output, message):
    if not (isinstance(output, tuple) and len(output) == 2):
        raise RuntimeError(message)
    return output


# -- grad, grad_and_value ----------------------------------------------------------------------------
def _grad_and_value(func, argnums, has_aux, args, kwargs):
    with _Level() as level:
        diff_args = _slice_argnums(args, argnums, as_tuple=False)
        flat_diff, spec = _flatten(diff_args)
        flat_diff = [level.differentiable(a) for a in flat_diff]
        diff_args = _unflatten(flat_diff, spec)
        args = _replace_args(args, diff_args if isinstance(argnums, tuple) else (diff_args,), argnums)
        output = func(*args, **kwargs)
        aux = None
        if has_aux:
            output, aux = _split_aux(
                output,
                "grad_and_value(f)(*args): output of function f should be a tuple: (output, aux) if has_aux is True",
            )
        if not isinstance(output, Tensor):
            raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got {type(output)}")
        if output.dim() != 0:
            raise RuntimeError(
                "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got tensor with"
                f" {output.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs instead?"
            )
        grad_input = _unflatten(_grad_or_zeros((output,), flat_diff), spec)
        grad_input, output = level.unwrap(grad_input), level.unwrap(output)
        aux = level.unwrap_aux(aux) if has_aux else None
    return (grad_input, (output, aux)) if has_aux else (grad_input, output)


def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning ``(gradient of func w.r.t. argnums, func's value)`` (with aux: ``(grad, (value, aux))``)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return _grad_and_value(func, argnums, has_aux, args, kwargs)

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """A function returning the gradient of the scalar ``func`` w.r.t. the arguments at ``argnums``."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        gradient, value = _grad_and_value(func, argnums, has_aux, args, kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return wrapper


# -- vjp, jacrev --------------------------------------------------------------------------------------
def _vjp_setup(level, func, primals, argnums, has_aux):
    """Run ``func`` at ``level``: (outputs, their flat list and spec, flat differentiable inputs, their spec, aux)."""
    if argnums is None:
        flat, primals_spec = _flatten(primals)
        flat_diff = [level.differentiable(p) for p in flat]
        args = _unflatten(flat_diff, primals_spec)
    else:
        diff = _slice_argnums(primals, argnums)
        flat, primals_spec = _flatten(diff)
        flat_diff = [level.differentiable(p) for p in flat]
        args = _replace_args(primals, _unflatten(flat_diff, primals_spec), argnums)
    output = func(*args)
    aux = None
    if has_aux:
        output, aux = _split_aux(
            output, "vjp(f, *primals): output of function f should be a tuple: (output, aux) if has_aux is True"
        )
    flat_output, output_spec = _flatten(output)
    _assert_non_empty_tensor_output(flat_output, "vjp(f, *primals)")
    for out in flat_output:
        if not (out.is_floating_point() or out.is_complex()):
            raise RuntimeError(
                f"vjp(f, ...): All outputs of f must be floating-point or complex Tensors, got Tensor with dtype {out.dtype}"
            )
    return output, flat_output, output_spec, flat_diff, primals_spec, aux


def vjp(func, *primals, has_aux=False):
    """``(func(*primals), vjp_fn[, aux])``: ``vjp_fn(cotangents)`` gives the vector-Jacobian products."""
    with _Level() as level:
        output, flat_output, output_spec, flat_diff, primals_spec, aux = _vjp_setup(level, func, primals, None, has_aux)
        results, aux = level.unwrap(output), level.unwrap_aux(aux) if has_aux else None

    def vjp_fn(cotangents, retain_graph=True, create_graph=None):
        if create_graph is None:
            create_graph = is_grad_enabled()
        flat_cotangents, cotangents_spec = _flatten(cotangents)
        if output_spec != cotangents_spec:
            raise RuntimeError(
                "Expected pytree structure of cotangents to be the same as pytree structure of outputs to the"
                f" function. cotangents: {_pprint(cotangents_spec)}, primal output: {_pprint(output_spec)}"
            )
        grads = _grad_or_zeros(flat_output, flat_diff, flat_cotangents, retain_graph=retain_graph,
                               create_graph=create_graph)
        return level.unwrap(_unflatten(grads, primals_spec))

    return (results, vjp_fn, aux) if has_aux else (results, vjp_fn)


def _rows(outputs, inputs):
    """J[i][j] = d outputs[i] / d inputs[j], shaped outputs[i].shape + inputs[j].shape: one vjp per output element."""
    jac = []
    for out in outputs:
        rows = [[] for _ in inputs]
        flat_out = out.reshape(-1)
        for k in range(out.numel()):
            for row, g in zip(rows, _grad_or_zeros((flat_out[k],), inputs)):
                row.append(g)
        jac.append([
            (stack(row) if row else inp.new_zeros((0,) + tuple(inp.shape))).view(tuple(out.shape) + tuple(inp.shape))
            for row, inp in zip(rows, inputs)
        ])
    return jac


def _assemble(jac, primals_spec, output_spec, argnums):
    """Per output, the Jacobians nested as the differentiated arguments; then nested as the outputs."""
    per_output = [_unflatten(row, primals_spec) for row in jac]
    if isinstance(argnums, int):
        per_output = [p[0] for p in per_output]
    return _unflatten(per_output, output_spec)


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """A function returning the Jacobian of ``func`` w.r.t. the arguments at ``argnums``, by reverse mode."""
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper_fn(*args):
        _error_if_complex("jacrev", args, is_input=True)
        with _Level() as level:
            _, flat_output, output_spec, flat_diff, primals_spec, aux = _vjp_setup(level, func, args, argnums, has_aux)
            _error_if_complex("jacrev", flat_output, is_input=False)
            result = level.unwrap(_assemble(_rows(flat_output, flat_diff), primals_spec, output_spec, argnums))
            aux = level.unwrap_aux(aux) if has_aux else None
        return (result, aux) if has_aux else result

    return wrapper_fn


# -- jvp, jacfwd (the double-vjp trick) ----------------------------------------------------------------
_JVP_STR = "jvp(f, primals, tangents)"


def _linearize(level, flat_output, flat_diff):
    """``push(tangents)``: per output, J v (or None where the output does not depend on the inputs)."""
    live = [i for i, out in enumerate(flat_output) if out.requires_grad]
    dummies = [level.dummy_like(flat_output[i]) for i in live]
    grad_inputs = (None,) * len(flat_diff)
    if live:
        # NOTE: grad_inputs = J^T u is linear in the dummy u (whose value, zero, never matters).
        grad_inputs = _api.grad([flat_output[i] for i in live], flat_diff, dummies, retain_graph=True,
                                create_graph=True, allow_unused=True)

    def push(flat_tangents):
        result = [None] * len(flat_output)
        pairs = [(g, t) for g, t in zip(grad_inputs, flat_tangents) if g is not None and g.requires_grad]
        if pairs:
            outs, grads_out = zip(*pairs)
            jv = _api.grad(outs, dummies, grads_out, retain_graph=True, create_graph=True, allow_unused=True)
            for i, value in zip(live, jv):
                result[i] = value
        return result

    return push


def _check_tangent(primal, tangent):
    if tuple(primal.shape) != tuple(tangent.shape):
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the original Tensor, this is"
            f" not supported. Tensor is of size {list(primal.shape)} while the given forward gradient is of size"
            f" {list(tangent.shape)}."
        )


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """``(func(*primals), J v[, aux])`` for the tangents ``v``, by the double-vjp trick (no forward-mode AD)."""
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{_JVP_STR}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals).")
    flat_primals, primals_spec = _flatten(primals)
    flat_tangents, tangents_spec = _flatten(tangents)
    if primals_spec != tangents_spec:
        raise RuntimeError(
            f"{_JVP_STR}: Expected primals and tangents to have the same python structure. For example, if primals"
            " is a tuple of 3 tensors, tangents also must be. Got primals with structure"
            f" {primals_spec!r} and tangents with structure {tangents_spec!r}"
        )
    for flat, name in ((flat_primals, "primals"), (flat_tangents, "tangents")):
        if len(flat) == 0:
            raise RuntimeError(f"{_JVP_STR}: Expected {name} to contain at least one Tensor.")
        for element in flat:
            if not isinstance(element, Tensor):
                raise RuntimeError(f"{_JVP_STR}: Expected {name} to only contain Tensors, got {type(element)}")
    for primal, tangent in zip(flat_primals, flat_tangents):
        _check_tangent(primal, tangent)
    with _Level() as level:
        flat_diff = [level.differentiable(p) for p in flat_primals]
        output = func(*_unflatten(flat_diff, primals_spec))
        aux = None
        if has_aux:
            output, aux = _split_aux(
                output, f"{_JVP_STR}: output of function f should be a tuple: (output, aux) if has_aux is True"
            )
        flat_output, output_spec = _flatten(output)
        _assert_non_empty_tensor_output(flat_output, _JVP_STR)
        tangents_out = []
        for out, tangent in zip(flat_output, _linearize(level, flat_output, flat_diff)(flat_tangents)):
            if tangent is None:
                if strict:
                    raise RuntimeError(
                        "jvp(f, primals, tangents, strict=True): The output of f is independent of the inputs. This is"
                        " not allowed with strict=True."
                    )
                tangent = out.new_zeros(out.shape)
            tangents_out.append(tangent)
        primals_out = level.unwrap(output)
        tangents_out = level.unwrap(_unflatten(tangents_out, output_spec))
        aux = level.unwrap_aux(aux) if has_aux else None
    return (primals_out, tangents_out, aux) if has_aux else (primals_out, tangents_out)


def _columns(flat_output, flat_diff, push):
    """J[i][j] by columns: one jvp per element of each input (a standard basis tangent)."""
    columns = [[[] for _ in flat_diff] for _ in flat_output]
    for j, inp in enumerate(flat_diff):
        for k in range(inp.numel()):
            tangents = [other.new_zeros(other.shape) for other in flat_diff]
            basis = inp.new_zeros(inp.numel())
            basis[k] = 1
            tangents[j] = basis.view(inp.shape)
            for i, (out, column) in enumerate(zip(flat_output, push(tangents))):
                columns[i][j].append(column.reshape(-1) if column is not None else out.new_zeros(out.numel()))
    return [
        [
            (stack(cols, dim=-1) if cols else out.new_zeros(out.numel(), 0)).view(tuple(out.shape) + tuple(inp.shape))
            for cols, inp in zip(columns[i], flat_diff)
        ]
        for i, out in enumerate(flat_output)
    ]


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """A function returning the Jacobian of ``func`` w.r.t. ``argnums``, column by column (double-vjp jvps)."""

    @functools.wraps(func)
    def wrapper_fn(*args):
        if randomness not in ("error", "different", "same"):  # what vmap checks in PyTorch
            raise RuntimeError(
                f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}"
            )
        _error_if_complex("jacfwd", args, is_input=True)
        primals = args if argnums is None else _slice_argnums(args, argnums)
        flat_primals, primals_spec = _flatten(primals)
        with _Level() as level:
            flat_diff = [level.differentiable(p) for p in flat_primals]
            diff_args = _unflatten(flat_diff, primals_spec)
            output = func(*(diff_args if argnums is None else _replace_args(args, diff_args, argnums)))
            aux = None
            if has_aux:
                output, aux = _split_aux(
                    output, f"{_JVP_STR}: output of function f should be a tuple: (output, aux) if has_aux is True"
                )
            flat_output, output_spec = _flatten(output)
            _assert_non_empty_tensor_output(flat_output, _JVP_STR)
            _error_if_complex("jacfwd", flat_output, is_input=False)
            jac = _columns(flat_output, flat_diff, _linearize(level, flat_output, flat_diff))
            result = level.unwrap(_assemble(jac, primals_spec, output_spec, argnums))
            aux = level.unwrap_aux(aux) if has_aux else None
        return (result, aux) if has_aux else result

    return wrapper_fn


def hessian(func, argnums=0):
    """A function returning the Hessian of the scalar ``func`` w.r.t. ``argnums``: ``jacfwd(jacrev(func))``."""
    return jacfwd(jacrev(func, argnums), argnums)
