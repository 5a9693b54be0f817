"""A Python number stored into a tensor's dtype (``fill_``, ``full``, ``t[i] = v``, ``masked_fill``,
``index_fill``, ``clamp``'s bounds, ``where``, ``threshold``) goes through PyTorch's checked
conversion: what does not fit is refused with PyTorch's RuntimeError, and the tensor is left as
it was; inf and NaN fit every float dtype; a float fits an integer dtype only within its range
(then truncated)."""

import math
import warnings

import numpy as np
import pytest

import tinytorch

INF, NAN = math.inf, math.nan

OPS = {
    "fill_": lambda lib, t, v: t.fill_(v),
    "full": lambda lib, t, v: lib.full((2,), v, dtype=t.dtype),
    "new_full": lambda lib, t, v: t.new_full((2,), v),
    "full_like": lambda lib, t, v: lib.full_like(t, v),
    "setitem": lambda lib, t, v: t.__setitem__(0, v),
    "setitem_slice": lambda lib, t, v: t.__setitem__(slice(None), v),
    "masked_fill": lambda lib, t, v: t.masked_fill(lib.tensor([True, False]), v),
    "index_fill": lambda lib, t, v: t.index_fill(0, lib.tensor([0]), v),
    "clamp_max": lambda lib, t, v: t.clamp(max=v),
    "clamp_min": lambda lib, t, v: t.clamp(min=v),
    "where": lambda lib, t, v: lib.where(lib.tensor([True, False]), v, t),
    "threshold": lambda lib, t, v: lib.nn.functional.threshold(t, 0, v),
}
DTYPES = ["int8", "uint8", "int16", "int32", "int64", "float16", "float32", "float64", "bool"]
VALUES = [1000, -1, -200, 127.5, 127.9, -128.5, 2.5, -0.5, 1e300, -1e300, 3.5e38, 3.4028235e38, 70000.0, INF, -INF, NAN,
          10**20, 2**63, True]


def _outcome(lib, op, dtype, value):
    t = lib.zeros(2, dtype=getattr(lib, dtype))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # a NumPy warning would fail the comparison
            result = OPS[op](lib, t, value)
    except Exception as error:  # noqa: BLE001 - the outcome compared is the error
        return type(error).__name__, str(error).split("\n")[0]
    result = t if result is None else result
    return str(result.dtype).split(".")[-1], [v if v == v else "nan" for v in result.tolist()]


# Written out from PyTorch 2.13, so that the file asserts behaviour without torch.
OVERFLOW = "RuntimeError", "value cannot be converted to type {} without overflow"
CASES = [
    ("fill_", "int8", 1000, OVERFLOW, "int8_t"),
    ("fill_", "int8", 127.5, OVERFLOW, "int8_t"),  # 127.5 > 127: refused, not truncated
    ("fill_", "uint8", 127.5, ("uint8", [127, 127]), None),
    ("fill_", "uint8", -1, ("uint8", [255, 255]), None),  # unsigned: -max..-1 wrap
    ("fill_", "uint8", -0.5, OVERFLOW, "uint8_t"),
    ("fill_", "int32", NAN, OVERFLOW, "int"),
    ("fill_", "int64", INF, OVERFLOW, "int64_t"),
    ("fill_", "int64", 2**63, OVERFLOW, "int64_t"),
    ("fill_", "float32", 1e300, OVERFLOW, "float"),
    ("fill_", "float32", 3.4028235e38, OVERFLOW, "float"),  # just past float32's largest value
    ("fill_", "float32", INF, ("float32", [INF, INF]), None),
    ("fill_", "float32", 2**63, ("float32", [2.0**63, 2.0**63]), None),
    ("fill_", "float16", 70000.0, OVERFLOW, "c10::Half"),
    ("fill_", "float16", 2**63, OVERFLOW, "c10::Half"),
    ("fill_", "float64", 1e300, ("float64", [1e300, 1e300]), None),
    ("fill_", "bool", NAN, ("bool", [True, True]), None),
    ("fill_", "int8", 10**20, ("OverflowError", "int too big to convert"), None),
    ("full", "float32", -1e300, OVERFLOW, "float"),
    ("full", "bool", 2**63, ("bool", [True, True]), None),
    ("setitem", "float32", 1e300, OVERFLOW, "float"),
    ("setitem", "float16", 1e300, ("float16", [INF, 0.0]), None),  # float16 stores a double: no check
    ("setitem", "int8", 2**63, ("ValueError", "Overflow when unpacking long long"), None),
    ("masked_fill", "float16", 1e5, OVERFLOW, "c10::Half"),
    ("index_fill", "float32", 1e300, OVERFLOW, "float"),
    ("clamp_max", "int8", 1e300, OVERFLOW, "float"),  # the bound makes the result float32
    ("clamp_min", "float32", -1e300, OVERFLOW, "float"),
    ("clamp_max", "int8", -1, ("int8", [-1, -1]), None),
    ("where", "float32", 1e300, OVERFLOW, "float"),
    ("where", "float16", 1e300, ("float16", [INF, 0.0]), None),
    ("threshold", "float16", 70000.0, OVERFLOW, "c10::Half"),
    ("threshold", "int32", -128.5, ("int32", [-128, -128]), None),
]


@pytest.mark.parametrize("op, dtype, value, expected, type_name", CASES)
def test_written_out_cases(op, dtype, value, expected, type_name):
    if type_name is not None:
        expected = expected[0], expected[1].format(type_name)
    assert _outcome(tinytorch, op, dtype, value) == (expected[0], [v if v == v else "nan" for v in expected[1]]
                                                      if isinstance(expected[1], list) else expected[1])


def test_a_refused_fill_leaves_the_tensor_as_it_was():
    t = tinytorch.tensor([1.0, 2.0])
    for store in (lambda: t.fill_(1e300), lambda: t.__setitem__(0, 1e300), lambda: t.masked_fill_(t > 0, 1e300)):
        with pytest.raises(RuntimeError, match="without overflow"):
            store()
        np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])


@pytest.mark.parametrize("op", list(OPS))
def test_every_dtype_and_value_as_torch(op):
    torch = pytest.importorskip("torch")
    for dtype in DTYPES:
        for value in VALUES:
            if dtype == "bool" and op in ("clamp_max", "clamp_min", "where") and value in (10**20, 2**63):
                continue  # PyTorch refuses to promote bool with uint64 (tinytorch has no uint64 promotion rule)
            if dtype == "bool" and op == "threshold" and value == 10**20:
                continue  # PyTorch unpacks the number before it finds the dtype unsupported
            ours, theirs = _outcome(tinytorch, op, dtype, value), _outcome(torch, op, dtype, value)
            assert ours == theirs, (op, dtype, value)


# add/sub's alpha and addcmul/addcdiv's value: PyTorch's alpha_check, and the checked conversion
# to the result's dtype (addcmul/addcdiv compute float16 in float32, so their value is checked as float).
SCALED = {
    "add": lambda lib, t, v: t.add(t, alpha=v),
    "sub": lambda lib, t, v: t.sub(t, alpha=v),
    "add_": lambda lib, t, v: t.clone().add_(t, alpha=v),
    "addcmul": lambda lib, t, v: t.addcmul(t, t, value=v),
    "addcdiv": lambda lib, t, v: t.addcdiv(t, t, value=v),
}
SCALED_DTYPES = ["float16", "float32", "float64", "int8", "int32", "bool"]  # bool: add only, addcmul refused
SCALED_VALUES = [70000.0, 1e300, 127.5, 1000, INF, NAN, 2.5, 3, True]


def _scaled(lib, op, dtype, value):
    t = lib.ones(2, dtype=getattr(lib, dtype))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            result = SCALED[op](lib, t, value)
    except Exception as error:  # noqa: BLE001 - the outcome compared is the error
        return type(error).__name__, str(error).split("\n")[0]
    return str(result.dtype).split(".")[-1], [v if v == v else "nan" for v in result.tolist()]


@pytest.mark.parametrize("op, dtype, value, expected", [
    ("add", "int8", 2.5, ("RuntimeError", "For integral input tensors, argument alpha must not be a floating point number.")),
    ("add", "float32", True, ("RuntimeError", "Boolean alpha only supported for Boolean results.")),
    ("add", "float32", 1e300, ("RuntimeError", "value cannot be converted to type float without overflow")),
    ("sub", "float16", 70000.0, ("RuntimeError", "value cannot be converted to type c10::Half without overflow")),
    ("add_", "float32", 1e300, ("RuntimeError", "value cannot be converted to type float without overflow")),
    ("add", "float64", 1e300, ("float64", [1e300, 1e300])),
    ("addcmul", "float16", 70000.0, ("float16", [INF, INF])),  # 70000 fits the float it is computed in
    ("addcmul", "int32", 2.5, ("int32", [3, 3])),  # 1 + 2 * 1 * 1: the value truncated to the dtype
    ("addcmul", "int8", 127.5, ("RuntimeError", "value cannot be converted to type int8_t without overflow")),
    ("addcdiv", "int32", 1, ("RuntimeError", "Integer division with addcdiv is no longer supported, and in a future  "
                                             "release addcdiv will perform a true division of tensor1 and tensor2. The "
                                             "historic addcdiv behavior can be implemented as (input + value * torch.trunc("
                                             "tensor1 / tensor2)).to(input.dtype) for integer inputs and as (input + value * "
                                             "tensor1 / tensor2) for float inputs. The future addcdiv behavior is just the "
                                             "latter implementation: (input + value * tensor1 / tensor2), for all dtypes.")),
])
def test_alpha_and_value_written_out(op, dtype, value, expected):
    assert _scaled(tinytorch, op, dtype, value) == expected


@pytest.mark.parametrize("op", list(SCALED))
def test_alpha_and_value_as_torch(op):
    torch = pytest.importorskip("torch")
    for dtype in SCALED_DTYPES:
        for value in SCALED_VALUES:
            assert _scaled(tinytorch, op, dtype, value) == _scaled(torch, op, dtype, value), (op, dtype, value)
