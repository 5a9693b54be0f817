"""make_dot: the DOT text names every node, shape and parameter; rendering needs Graphviz."""

import builtins
import re

import pytest

import tinytorch
from tinytorch.viz import make_dot


def _linear_graph():
    weight = tinytorch.randn(3, 4, requires_grad=True)
    bias = tinytorch.randn(3, requires_grad=True)
    x = tinytorch.randn(5, 4)
    loss = (x @ weight.T + bias).relu().sum()
    return loss, {"weight": weight, "bias": bias}


def _labels(source):
    return dict(re.findall(r'\t(\w+) \[label="([^"]*)"', source))


def test_dot_lists_each_op_with_its_output_shape():
    loss, _ = _linear_graph()
    labels = _labels(make_dot(loss).source).values()
    assert "SumBackward0\\n()" in labels
    assert "ReluBackward0\\n(5, 3)" in labels
    assert "AddBackward0\\n(5, 3)" in labels
    assert "MatMulBackward0\\n(5, 3)" in labels
    assert "PermuteBackward0\\n(4, 3)" in labels
    assert sum(label.startswith("AccumulateGrad") for label in labels) == 2


def test_params_name_the_leaves_and_edges_follow_the_data():
    loss, params = _linear_graph()
    source = make_dot(loss, params=params).source
    labels = _labels(source)
    ids = {label.split("\\n")[0]: node for node, label in labels.items()}
    assert labels[ids["weight"]] == "weight\\n(3, 4)"
    assert labels[ids["bias"]] == "bias\\n(3,)"
    assert f"{ids['weight']} -> {ids['PermuteBackward0']}" in source
    assert f"{ids['bias']} -> {ids['AddBackward0']}" in source
    assert f"{ids['SumBackward0']} -> out0" in source
    assert source.startswith("digraph {") and source.rstrip().endswith("}")


def test_show_attrs_lists_saved_tensors_and_ctx_values():
    loss, _ = _linear_graph()
    plain = make_dot(loss).source
    detailed = make_dot(loss, show_attrs=True).source
    assert "saved[0]: (5, 4)" in detailed and "saved[0]" not in plain
    assert "keepdim: False" in detailed


def test_a_deep_graph_is_walked_without_recursion():
    x = tinytorch.ones(2, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    source = make_dot(y).source
    assert source.count("MulBackward0") == 5000


def test_render_without_the_graphviz_package_says_how_to_install(monkeypatch, tmp_path):
    real_import = builtins.__import__

    def no_graphviz(name, *args, **kwargs):
        if name == "graphviz":
            raise ImportError("No module named 'graphviz'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_graphviz)
    graph = make_dot(_linear_graph()[0])
    with pytest.raises(RuntimeError, match=r"pip install graphviz.*apt-get install graphviz"):
        graph.render(str(tmp_path / "graph"))
    assert graph._repr_svg_() is None


def test_render_without_the_dot_program_says_how_to_install(monkeypatch, tmp_path):
    graphviz = pytest.importorskip("graphviz")

    def missing(*args, **kwargs):
        raise graphviz.ExecutableNotFound(("dot",))

    monkeypatch.setattr(graphviz.Source, "render", missing)
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        make_dot(_linear_graph()[0]).render(str(tmp_path / "graph"))


def test_render_writes_an_svg_when_graphviz_is_installed(tmp_path):
    graphviz = pytest.importorskip("graphviz")
    try:
        graphviz.version()
    except graphviz.ExecutableNotFound:
        pytest.skip("the Graphviz dot program is not installed")
    path = make_dot(_linear_graph()[0]).render(str(tmp_path / "graph"), format="svg")
    text = open(path).read()
    assert path.endswith(".svg") and "<svg" in text and "MatMulBackward0" in text
