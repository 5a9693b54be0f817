"""``make_dot``: draw the backward graph behind a tensor as Graphviz DOT (like torchviz)."""

from .autograd.function import AccumulateGrad, _SavedOutput, grad_accumulator
from .autograd._saved_hooks import Packed as _Packed

_INSTALL_HELP = (
    "rendering a graph needs the graphviz Python package and the Graphviz `dot` program: "
    "`pip install graphviz` and `apt-get install graphviz` (macOS: `brew install graphviz`; "
    "conda: `conda install python-graphviz`). The DOT text is in `.source` without them."
)


class Digraph:
    """DOT text (``.source``) that can be rendered to SVG or PNG when Graphviz is installed."""

    def __init__(self, source):
        self.source = source

    def __str__(self):
        return self.source

    def __repr__(self):
        return f"<tinytorch.viz.Digraph with {self.source.count(' -> ')} edges>"

    def pipe(self, format="svg"):
        """The rendered image as bytes."""
        graphviz = _graphviz()
        try:
            return graphviz.Source(self.source).pipe(format=format)
        except graphviz.ExecutableNotFound as error:
            raise RuntimeError(f"the Graphviz `dot` program was not found: {_INSTALL_HELP}") from error

    def render(self, filename, format="svg"):
        """Write ``filename.<format>`` (``format`` is 'svg' or 'png') and return its path."""
        graphviz = _graphviz()
        try:
            return graphviz.Source(self.source).render(filename, format=format, cleanup=True)
        except graphviz.ExecutableNotFound as error:
            raise RuntimeError(f"the Graphviz `dot` program was not found: {_INSTALL_HELP}") from error

    def _repr_svg_(self):
        """Jupyter shows the rendered graph; None (the text fallback) when Graphviz is missing."""
        try:
            return self.pipe("svg").decode()
        except RuntimeError:
            return None


def _graphviz():
    try:
        import graphviz
    except ImportError:
        raise RuntimeError(f"the graphviz Python package is not installed: {_INSTALL_HELP}") from None
    return graphviz


def make_dot(var, params=None, show_attrs=False):
    """The graph that backward would run from ``var`` (a tensor or a tuple of tensors).

    One box per backward node (``MulBackward0`` and the shapes of its outputs); leaves are
    ``AccumulateGrad`` boxes, labelled with their names from ``params`` (name -> tensor, e.g.
    ``dict(model.named_parameters())``) and shapes. ``show_attrs=True`` adds what each node saved
    for backward. Returns a :class:`Digraph`.
    """
    outputs = tuple(var) if isinstance(var, (tuple, list)) else (var,)
    names = {id(t): name for name, t in (params or {}).items()}
    lines = [
        "digraph {",
        '\tgraph [size="12,12"]',
        '\tnode [align=left fontname=monospace fontsize=10 height=0.2 ranksep=0.1 shape=box style=filled]',
    ]
    ids, shapes, order = {}, {}, []

    def node_id(node):
        if node not in ids:
            ids[node] = f"n{len(ids)}"
            order.append(node)
        return ids[node]

    edges, stack = [], []
    for i, out in enumerate(outputs):
        root = out.grad_fn if out.grad_fn is not None else _leaf_node(out)
        label = names.get(id(out), "output" if len(outputs) == 1 else f"output {i}") + "\n" + _shape(out.shape)
        lines.append(f'\tout{i} [label="{_escape(label)}" fillcolor=darkolivegreen1]')
        if root is None:
            continue
        shapes.setdefault(root, {})[out._output_nr] = tuple(out.shape)
        edges.append(f"\t{node_id(root)} -> out{i}")
        stack.append(root)
    # Iterative depth-first walk: a graph of 100,000 ops must not overflow the Python stack.
    seen = set(stack)
    while stack:
        node = stack.pop()
        for edge in node._edges:
            if edge is None:
                continue
            child, nr, shape, _ = edge
            shapes.setdefault(child, {})[nr] = tuple(shape)
            edges.append(f"\t{node_id(child)} -> {node_id(node)}")
            if child not in seen:
                seen.add(child)
                stack.append(child)
    for node in order:
        lines.append(f"\t{ids[node]} {_node_attributes(node, shapes.get(node, {}), names, show_attrs)}")
    lines.extend(dict.fromkeys(edges))  # one arrow per (input, node) pair, in first-seen order
    lines.append("}")
    return Digraph("\n".join(lines) + "\n")


def _leaf_node(tensor):
    if not tensor.requires_grad:
        return None
    return grad_accumulator(tensor)


def _node_attributes(node, output_shapes, names, show_attrs):
    if node.__class__ is AccumulateGrad:
        variable = node.variable
        name = names.get(id(variable))
        label = (name or "AccumulateGrad") + "\n" + _shape(variable.shape)
        return f'[label="{_escape(label)}" fillcolor=lightblue]'
    label = node.name() + "".join(f"\n{_shape(output_shapes[nr])}" for nr in sorted(output_shapes))
    if show_attrs:
        label += _saved_attributes(node)
    return f'[label="{_escape(label)}" fillcolor=lightgrey]'


def _saved_attributes(node):
    """What forward kept on the ctx: saved tensors (shapes) and plain attributes."""
    text = ""
    for i, saved in enumerate(node._saved):
        if isinstance(saved, _SavedOutput):
            text += f"\nsaved[{i}]: output {_shape(saved.data.shape)}"
        elif isinstance(saved, _Packed):
            text += f"\nsaved[{i}]: packed by a saved_tensors_hooks pack hook"
        elif hasattr(saved, "shape"):
            text += f"\nsaved[{i}]: {_shape(saved.shape)}"
        else:
            text += f"\nsaved[{i}]: {saved!r}"
    for key, value in sorted(node.__dict__.items()):
        if not key.startswith("_") and key != "materialize_grads":
            shown = _shape(value.shape) if hasattr(value, "shape") else repr(value)
            text += f"\n{key}: {shown[:60]}"
    return text


def _shape(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _escape(text):
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
