"""The backward trace: nodes in topological order with their lines, broadcast axes, norms, NaN flags."""

import io
import re

import tinytorch


def _nodes(text):
    """[(number, name, rest of the header line)] of each printed node."""
    return re.findall(r"^\[(\d+)\] (\w+)  (.*)$", text, flags=re.M)


def test_trace_prints_each_node_once_in_topological_order_with_its_source_line():
    out = io.StringIO()
    x = tinytorch.randn(4, 3, requires_grad=True)
    b = tinytorch.randn(3, requires_grad=True)
    with tinytorch.autograd.trace(file=out, params={"x": x, "b": b}):
        y = (x * b).tanh()  # the line the trace must show
        loss = y.sum()
        loss.backward()
    nodes = _nodes(out.getvalue())
    assert [name for _, name, _ in nodes] == ["SumBackward0", "TanhBackward0", "MulBackward0"]
    assert [int(n) for n, _, _ in nodes] == [1, 2, 3]
    assert nodes[0][2].endswith("test_trace.py:20: loss = y.sum()")
    assert nodes[1][2].endswith("y = (x * b).tanh()  # the line the trace must show")
    assert out.getvalue().startswith("backward starts at SumBackward0")
    assert "grad_output[0]: shape () (the gradient backward started from" in out.getvalue()


def test_trace_shows_shapes_broadcast_axes_and_norms():
    out = io.StringIO()
    x = tinytorch.ones(4, 3, requires_grad=True)
    b = tinytorch.full((1, 3), 2.0, requires_grad=True)
    with tinytorch.autograd.trace(file=out, params={"x": x, "b": b}):
        (x * b).sum().backward()
    text = out.getvalue()
    mul = text[text.index("MulBackward0"):]
    # d/dx = b broadcast to (4, 3): norm sqrt(12 * 4); d/db = x summed over axis 0: 4 per element.
    assert "grad_output[0]: shape (4, 3) norm 3.464" in mul
    assert "grad_input[0]: shape (4, 3) norm 6.928 -> leaf x (4, 3)" in mul
    assert "grad_input[1]: shape (1, 3) norm 6.928 (broadcast: summed over axes (0,) of (4, 3)) -> leaf b (1, 3)" in mul
    assert b.grad.tolist() == [[4.0, 4.0, 4.0]]


def test_trace_flags_nan_and_inf():
    out = io.StringIO()
    x = tinytorch.tensor([0.0, 1.0, 4.0], requires_grad=True)
    with tinytorch.autograd.trace(file=out):
        x.sqrt().sum().backward()  # d sqrt(x)/dx = 1 / (2 sqrt(x)) is inf at 0
    assert "!! inf x1" in out.getvalue()
    out = io.StringIO()
    y = tinytorch.tensor([-1.0, 1.0], requires_grad=True)
    with tinytorch.autograd.trace(file=out):
        y.sqrt().sum().backward()  # sqrt(-1) is nan, and so is its gradient
    assert "!! NaN x1" in out.getvalue()
    clean = io.StringIO()
    with tinytorch.autograd.trace(file=clean):
        (y * 2).sum().backward()
    assert "!!" not in clean.getvalue()


def test_backward_trace_true_prints_without_source_lines(capsys):
    x = tinytorch.randn(2, 5, requires_grad=True)
    loss = (x @ tinytorch.randn(5, 3)).sum()
    loss.backward(trace=True)
    text = capsys.readouterr().out
    assert [name for _, name, _ in _nodes(text)] == ["SumBackward0", "MatMulBackward0"]
    assert "source line not recorded" in text
    assert "grad_output[0]: shape () norm 1" in text  # the seed: d loss / d loss = 1
    assert x.grad is not None and tuple(x.grad.shape) == (2, 5)


def test_backward_trace_to_a_file_and_the_trace_is_removed_afterwards():
    out = io.StringIO()
    x = tinytorch.randn(3, requires_grad=True)
    (x * x).sum().backward(trace=out)
    assert "MulBackward0" in out.getvalue()
    assert not tinytorch.autograd._observe.state.active
    size = len(out.getvalue())
    (x * 2).sum().backward()
    assert len(out.getvalue()) == size
