"""Sequential, ModuleList, ModuleDict, ParameterList and ParameterDict."""

from collections import OrderedDict

import numpy as np
import pytest

import tinytorch
from tinytorch import nn

from .helpers import normalized, numpy_of


def _three():
    return nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)


def test_sequential_runs_in_order_and_names_children_by_position():
    a, relu, b = _three()
    model = nn.Sequential(a, relu, b)
    x = tinytorch.randn(4, 2)
    assert np.array_equal(numpy_of(model(x)), numpy_of(b(relu(a(x)))))
    assert [n for n, _ in model.named_children()] == ["0", "1", "2"]
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_sequential_from_ordered_dict():
    a, relu, b = _three()
    model = nn.Sequential(OrderedDict([("fc1", a), ("act", relu), ("fc2", b)]))
    assert model.fc1 is a and model[1] is relu
    assert list(model.state_dict()) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]


def test_sequential_indexing():
    a, relu, b = _three()
    model = nn.Sequential(a, relu, b)
    assert model[0] is a and model[-1] is b and model[-3] is a
    head = model[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [a, relu]
    assert list(model[::2]) == [a, b]
    assert len(model) == 3 and list(model) == [a, relu, b]
    with pytest.raises(IndexError, match="index 3 is out of range"):
        model[3]
    with pytest.raises(IndexError, match="index -4 is out of range"):
        model[-4]


def test_sequential_mutation():
    a, relu, b = _three()
    model = nn.Sequential(a)
    assert model.append(relu) is model
    model.extend([b])
    assert list(model) == [a, relu, b]
    tanh = nn.Tanh()
    model.insert(1, tanh)
    assert list(model) == [a, tanh, relu, b]
    assert [n for n, _ in model.named_children()] == ["0", "1", "2", "3"]
    model[1] = nn.Sigmoid()
    assert isinstance(model[1], nn.Sigmoid)
    del model[1]
    assert list(model) == [a, relu, b] and list(model._modules) == ["0", "1", "2"]
    assert model.pop(0) is a and list(model) == [relu, b]
    del model[:]
    assert len(model) == 0
    with pytest.raises(IndexError, match="Index out of range: 5"):
        model.insert(5, nn.ReLU())


def test_sequential_add_and_multiply():
    a, relu, b = _three()
    left, right = nn.Sequential(a), nn.Sequential(relu, b)
    combined = left + right
    assert list(combined) == [a, relu, b]
    left += right
    assert list(left) == [a, relu, b]
    assert list(nn.Sequential(a) * 3) == [a, a, a]
    with pytest.raises(ValueError, match="add operator supports only objects of Sequential class"):
        left + [a]
    with pytest.raises(ValueError, match="Non-positive multiplication factor 0"):
        left * 0


def test_module_list():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and isinstance(layers[-1], nn.Linear)
    assert [n for n, _ in layers.named_parameters()][:2] == ["0.weight", "0.bias"]
    layers.append(nn.ReLU())
    layers.extend([nn.Tanh()])
    layers.insert(0, nn.Sigmoid())
    assert [type(m).__name__ for m in layers] == ["Sigmoid", "Linear", "Linear", "Linear", "ReLU", "Tanh"]
    del layers[0]
    assert type(layers[0]).__name__ == "Linear" and list(layers._modules)[0] == "0"
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    layers += [nn.ReLU()]
    assert len(layers) == 6
    assert len(layers + nn.ModuleList([nn.ReLU()])) == 7
    assert isinstance(layers.pop(-1), nn.ReLU)
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable, but got ReLU"):
        layers.extend(nn.ReLU())
    with pytest.raises(IndexError):
        layers[10]


def test_module_dict():
    heads = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Linear(1, 1)})
    assert list(heads) == ["b", "a"] and "a" in heads and len(heads) == 2
    heads["c"] = nn.Tanh()
    heads.update([("d", nn.Sigmoid())])
    assert list(heads.keys()) == ["b", "a", "c", "d"]
    assert isinstance(heads.pop("c"), nn.Tanh) and "c" not in heads
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias"]
    assert [type(v).__name__ for v in heads.values()] == ["ReLU", "Linear", "Sigmoid"]
    with pytest.raises(ValueError, match="ModuleDict update sequence element #0 has length 1; 2 is required"):
        heads.update([("x",)])
    heads.clear()
    assert len(heads) == 0


def test_parameter_list_converts_tensors_and_registers_them():
    params = nn.ParameterList([nn.Parameter(tinytorch.zeros(2)), tinytorch.ones(3)])
    assert all(isinstance(p, nn.Parameter) for p in params)
    assert [n for n, _ in params.named_parameters()] == ["0", "1"]
    params.append(tinytorch.zeros(1))
    params[0] = tinytorch.full((2,), 5.0)
    assert len(params) == 3 and params[0].tolist() == [5.0, 5.0] and params[-1].shape == (1,)
    assert len(params[:2]) == 2
    with pytest.raises(RuntimeError, match="ParameterList should not be called."):
        params(1)


def test_parameter_dict():
    params = nn.ParameterDict({"w": tinytorch.zeros(2), "b": nn.Parameter(tinytorch.ones(1))})
    assert list(params) == ["b", "w"]  # a plain dict is sorted, as PyTorch does
    assert isinstance(params["w"], nn.Parameter)
    params["z"] = tinytorch.ones(3)
    assert [n for n, _ in params.named_parameters()] == ["b", "w", "z"]
    assert params.get("missing", 7) == 7 and params.setdefault("b") is params["b"]
    assert params.popitem()[0] == "z" and params.pop("b").shape == (1,)
    assert list(params.keys()) == ["w"]
    merged = params | nn.ParameterDict({"q": tinytorch.ones(1)})
    assert list(merged) == ["w", "q"]
    with pytest.raises(TypeError, match="Index given to ParameterDict cannot be used as a key"):
        params[1] = tinytorch.ones(1)


def _containers(lib):
    n = lib.nn
    return [
        n.Sequential(n.Linear(2, 3), n.ReLU()),
        n.ModuleList([n.Linear(2, 2), n.Linear(2, 2), n.ReLU(), n.Linear(2, 2)]),
        n.ModuleList(),
        n.ModuleDict({"act": n.ReLU(), "fc": n.Linear(1, 2)}),
        n.ParameterList([n.Parameter(lib.zeros(2, 3)), lib.zeros(4, dtype=lib.float64)]),
        n.ParameterDict({"a": n.Parameter(lib.zeros(2)), "b": lib.zeros(1, 3)}),
    ]


def test_container_reprs_match_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs in zip(_containers(tinytorch), _containers(torch)):
        assert normalized(repr(ours)) == repr(theirs)
