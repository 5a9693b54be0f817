"""``Tensor.apply_``, ``map_`` and ``map2_`` (Python callables per element), against PyTorch."""

import numpy as np
import pytest

import tinytorch


def _run(lib, make):
    """``make(lib)``'s tensor as a list, or the error's (type, message) with torch's names."""
    try:
        return make(lib).tolist()
    except Exception as error:  # noqa: BLE001 - the error itself is what is compared
        return type(error), str(error).replace("tinytorch.", "torch.")


def _same_as_torch(make):
    torch = pytest.importorskip("torch")
    assert _run(tinytorch, make) == _run(torch, make)


CASES = {
    "apply_float": lambda lib: lib.tensor([1.0, 2.0, 3.0]).apply_(lambda v: v * 2 + 0.5),
    "apply_gets_python_float": lambda lib: lib.tensor([1.0, 2.0]).apply_(lambda v: float(type(v) is float)),
    "apply_gets_python_int": lambda lib: lib.tensor([1, 2]).apply_(lambda v: int(type(v) is int)),
    "apply_gets_python_bool": lambda lib: lib.tensor([True, False]).apply_(lambda v: type(v) is bool and not v),
    "apply_float16": lambda lib: lib.tensor([1.0, 2.0], dtype=lib.float16).apply_(lambda v: v / 3),
    "apply_float_to_int_truncates": lambda lib: lib.tensor([1, 2]).apply_(lambda v: v + 0.7),
    "apply_bool_result_into_int": lambda lib: lib.tensor([1, 2]).apply_(lambda v: v > 1),
    "apply_number_into_bool": lambda lib: lib.tensor([True, True]).apply_(lambda v: 0.0),
    "apply_0d": lambda lib: lib.tensor(5.0).apply_(lambda v: v + 1),
    "apply_empty_never_calls": lambda lib: lib.zeros(0).apply_(5),
    "apply_non_contiguous_view": lambda lib: lib.arange(6.0).reshape(2, 3).t().apply_(lambda v: v * 10),
    "apply_overflow_float32_is_inf": lambda lib: lib.tensor([1.0]).apply_(lambda v: 1e300),
    "apply_uint8_negative_wraps": lambda lib: lib.tensor([1], dtype=lib.uint8).apply_(lambda v: -129),
    "apply_uint8_float_truncates": lambda lib: lib.tensor([1], dtype=lib.uint8).apply_(lambda v: 255.9),
    "apply_numpy_scalar_result": lambda lib: lib.tensor([1.0]).apply_(lambda v: np.float64(3.5)),
    "apply_0d_tensor_result": lambda lib: lib.tensor([1]).apply_(lambda v: lib.tensor(7)),
    # errors
    "err_str_into_float": lambda lib: lib.tensor([1.0]).apply_(lambda v: "a"),
    "err_none_into_float": lambda lib: lib.tensor([1.0]).apply_(lambda v: None),
    "err_complex_into_float": lambda lib: lib.tensor([1.0]).apply_(lambda v: 1 + 1j),
    "err_str_into_int": lambda lib: lib.tensor([1]).apply_(lambda v: "a"),
    "err_complex_into_int": lambda lib: lib.tensor([1]).apply_(lambda v: 1j),
    "err_none_into_bool": lambda lib: lib.tensor([True]).apply_(lambda v: None),
    "err_uint8_overflow": lambda lib: lib.tensor([1], dtype=lib.uint8).apply_(lambda v: 300),
    "err_uint8_too_negative": lambda lib: lib.tensor([1], dtype=lib.uint8).apply_(lambda v: -256),
    "err_uint8_negative_float": lambda lib: lib.tensor([1], dtype=lib.uint8).apply_(lambda v: -0.5),
    "err_int32_overflow": lambda lib: lib.tensor([1], dtype=lib.int32).apply_(lambda v: 2**40),
    "err_int8_float_overflow": lambda lib: lib.tensor([1], dtype=lib.int8).apply_(lambda v: 1e30),
    "err_int64_nan": lambda lib: lib.tensor([1]).apply_(lambda v: float("nan")),
    "err_int64_too_big": lambda lib: lib.tensor([1]).apply_(lambda v: 2**64),
    "err_not_callable": lambda lib: lib.tensor([1.0]).apply_(5),
    "err_callable_raises": lambda lib: lib.tensor([1.0]).apply_(lambda v: 1 / 0),
    "err_requires_grad_leaf": lambda lib: lib.ones(2, requires_grad=True).apply_(lambda v: v),
    "err_requires_grad_non_leaf": lambda lib: (lib.ones(2, requires_grad=True) * 1).apply_(lambda v: v),
    # map_
    "map_same_shape": lambda lib: lib.tensor([1.0, 2.0, 3.0]).map_(lib.tensor([10.0, 20.0, 30.0]), lambda a, b: a * b),
    "map_broadcast_row": lambda lib: lib.zeros(2, 3).map_(lib.tensor([10.0, 20.0, 30.0]), lambda a, b: a + b),
    "map_broadcast_column": lambda lib: lib.zeros(2, 3).map_(lib.tensor([[10.0], [20.0]]), lambda a, b: a + b),
    "map_broadcast_one": lambda lib: lib.tensor([1.0, 2.0]).map_(lib.tensor([10.0]), lambda a, b: a + b),
    "map_keywords": lambda lib: lib.tensor([1.0, 2.0]).map_(other=lib.tensor([3.0, 4.0]), callable=lambda a, b: a - b),
    "err_map_dtype": lambda lib: lib.tensor([1.0]).map_(lib.tensor([1]), lambda a, b: a),
    "err_map_not_tensor": lambda lib: lib.tensor([1.0]).map_(5, lambda a, b: a),
    "err_map_cannot_expand": lambda lib: lib.tensor([1.0, 2, 3]).map_(lib.tensor([[1.0, 2, 3]]), lambda a, b: a),
    "err_map_other_requires_grad": lambda lib: lib.ones(2).map_(lib.ones(2, requires_grad=True), lambda a, b: a),
    "err_map_self_requires_grad": lambda lib: lib.ones(2, requires_grad=True).map_(lib.ones(2), lambda a, b: a),
    "err_map_wrong_arity": lambda lib: lib.ones(2).map_(lib.ones(2), lambda a: a),
    # map2_
    "map2_broadcast": lambda lib: lib.zeros(2, 3).map2_(
        lib.tensor([[10.0], [20.0]]), lib.tensor([1.0, 2.0, 3.0]), lambda a, b, c: a + b + c),
    "map2_ints": lambda lib: lib.tensor([1, 2]).map2_(lib.tensor([3, 4]), lib.tensor([5, 6]), lambda a, b, c: a * b - c),
    "err_map2_y_dtype": lambda lib: lib.ones(3).map2_(lib.ones(3), lib.tensor([1, 2, 3]), lambda a, b, c: a),
    "err_map2_x_dtype": lambda lib: lib.ones(3).map2_(lib.tensor([1, 2, 3]), lib.ones(3), lambda a, b, c: a),
    "err_map2_y_not_tensor": lambda lib: lib.ones(3).map2_(lib.ones(3), 5, lambda a, b, c: a),
    "err_map2_x_requires_grad": lambda lib: lib.ones(3).map2_(lib.ones(3, requires_grad=True), lib.ones(3), lambda a, b, c: a),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_pytorch(name):
    _same_as_torch(CASES[name])


def test_writes_in_place_through_a_view_and_returns_self():
    base = tinytorch.zeros(4)
    view = base[::2]
    assert view.apply_(lambda v: 7.0) is view
    np.testing.assert_array_equal(base.numpy(), [7.0, 0.0, 7.0, 0.0])


def test_order_is_row_major_and_an_error_keeps_what_was_written():
    seen = []
    t = tinytorch.arange(6.0).reshape(2, 3).t()  # a transposed view: logical order, not memory order

    def fn(v):
        seen.append(v)
        if len(seen) == 4:
            raise ValueError("stop")
        return -v

    with pytest.raises(ValueError, match="stop"):
        t.apply_(fn)
    assert seen == [0.0, 3.0, 1.0, 4.0]
    np.testing.assert_array_equal(t.numpy(), [[0.0, -3.0], [-1.0, 4.0], [2.0, 5.0]])


def test_version_is_bumped_so_saved_tensors_notice():
    w = tinytorch.ones(2, requires_grad=True)
    x = tinytorch.tensor([1.0, 2.0])
    y = (w * x).sum()  # x is saved for w's gradient
    x.apply_(lambda v: v * 10)
    assert x._version[0] == 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
    x.map_(x, lambda a, b: a)
    x.map2_(x, x, lambda a, b, c: a)
    assert x._version[0] == 3


def test_refused_under_no_grad_too():
    x = tinytorch.ones(2, requires_grad=True)
    with tinytorch.no_grad(), pytest.raises(RuntimeError, match=r"Can't call apply_\(\) on Variable that requires grad"):
        x.apply_(lambda v: v)


@pytest.mark.skipif(not tinytorch.cuda.is_available(), reason="needs CUDA (or TINYTORCH_FAKE_CUDA=1)")
def test_cuda_tensors_are_refused_with_a_type_error():
    x = tinytorch.ones(2, device="cuda")
    with pytest.raises(TypeError, match="apply_ is only implemented on CPU tensors"):
        x.apply_(lambda v: v)
    with pytest.raises(TypeError, match="map_ is only implemented on CPU tensors"):
        x.map_(tinytorch.ones(2, device="cuda"), lambda a, b: a)
    with pytest.raises(TypeError, match="map2_ is only implemented on CPU tensors"):
        x.map2_(tinytorch.ones(2, device="cuda"), tinytorch.ones(2, device="cuda"), lambda a, b, c: a)
    # A CPU other is a type mismatch first, as in PyTorch (the legacy type names the device).
    with pytest.raises(TypeError, match=r"map_: expected tinytorch.cuda.FloatTensor for 'other' \(got tinytorch.FloatTensor\)"):
        x.map_(tinytorch.ones(2), lambda a, b: a)
    np.testing.assert_array_equal(x.cpu().numpy(), [1.0, 1.0])
