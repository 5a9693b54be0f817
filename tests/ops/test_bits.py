"""frexp, ldexp, nextafter and the bit shifts (bitwise_left_shift, bitwise_right_shift, <<, >>):
values, dtypes and errors against torch (shifts outside the width included), gradients of frexp
and ldexp, out= and the in-place forms, on each device."""

import math

import numpy as np
import pytest

import tinytorch

# Each case runs on both libraries: the same value and dtype, or the same error type and message.
CASES = [
    # shifts: in range, outside [0, bits) (PyTorch: 0 for <<, the sign for >>), numbers, promotion
    "lib.bitwise_left_shift(lib.tensor([1, -3, 5]), lib.tensor([0, 2, 63]))",
    "lib.bitwise_left_shift(lib.tensor([1, -3, 5]), lib.tensor([64, 65, -1]))",
    "lib.bitwise_right_shift(lib.tensor([1, -3, -5, 8]), lib.tensor([64, 65, -1, 70]))",
    "lib.bitwise_right_shift(lib.tensor([1, -3, -5, 8], dtype=lib.int8), lib.tensor([7, 8, 9, 2], dtype=lib.int8))",
    "lib.bitwise_left_shift(lib.tensor([1, 3], dtype=lib.uint8), lib.tensor([7, 8], dtype=lib.uint8))",
    "lib.bitwise_right_shift(lib.tensor([255, 255, 255], dtype=lib.uint8), lib.tensor([8, 9, 7], dtype=lib.uint8))",
    "lib.bitwise_left_shift(lib.tensor([1, 3], dtype=lib.uint8), 9)",
    "lib.bitwise_left_shift(lib.tensor([1, 3], dtype=lib.uint8), 300)",
    "lib.bitwise_left_shift(lib.tensor([1, 3], dtype=lib.uint8), lib.tensor([1]))",
    "lib.bitwise_left_shift(lib.tensor([1, 3], dtype=lib.int8), lib.tensor(1))",
    "lib.bitwise_left_shift(lib.tensor([1], dtype=lib.int16), lib.tensor([16]))",
    "lib.bitwise_right_shift(lib.tensor(-100, dtype=lib.int16), 3)",
    "lib.bitwise_left_shift(2, lib.tensor([1]))",
    "lib.bitwise_left_shift(lib.tensor([1.5]), 1)",
    "lib.bitwise_left_shift(lib.tensor([1]), 1.5)",
    "lib.bitwise_left_shift(lib.tensor([True]), True)",
    "lib.tensor([1.5]) << 1",
    "lib.tensor([1.5]) >> 1",
    "lib.tensor([1]) << lib.tensor([1.])",
    "lib.tensor([3, -8]) << 2",
    "lib.tensor([3, -8]) >> 1",
    "2 << lib.tensor([1, 2])",
    "-8 >> lib.tensor([1, 70])",
    "lib.tensor([3]).bitwise_left_shift_(1)",
    "lib.tensor([3], dtype=lib.int8).bitwise_right_shift_(lib.tensor([1]))",
    "lib.tensor([3]).bitwise_right_shift(lib.tensor([1]))",
    "lib.tensor([3]) << [1]",
    "lib.tensor([3]) >> None",
    # frexp
    "lib.frexp(lib.tensor([0., 1., -3., 1e-40, 5e3, float('inf'), -float('inf'), float('nan')]))",
    "lib.frexp(lib.tensor([1., 2.], dtype=lib.float16))",
    "lib.frexp(lib.tensor([[1., 0.1], [7., -0.3]], dtype=lib.float64))",
    "lib.tensor([5., 0.1]).frexp()",
    "lib.frexp(lib.tensor([1, 2]))",
    "lib.frexp([1.])",
    "lib.frexp(lib.ones(2), out=(lib.empty(2), lib.empty(2, dtype=lib.long)))",
    "lib.frexp(lib.ones(2), out=(lib.empty(2, dtype=lib.float64), lib.empty(2, dtype=lib.int32)))",
    "lib.frexp(lib.ones(2), out=lib.empty(2))",
    # ldexp
    "lib.ldexp(lib.tensor([1., 2.]), lib.tensor([3]))",
    "lib.ldexp(lib.tensor([1, 2]), lib.tensor([3]))",
    "lib.ldexp(lib.tensor([1.], dtype=lib.float16), lib.tensor([2]))",
    "lib.ldexp(lib.tensor([1], dtype=lib.int32), lib.tensor([2.], dtype=lib.float64))",
    "lib.ldexp(lib.tensor([True]), lib.tensor([True]))",
    "lib.ldexp(lib.tensor([1.5, 3.]), lib.tensor([-1030, 1030]))",
    "lib.ldexp(lib.tensor([1., 2.]), 3)",
    "lib.ldexp([1.], lib.ones(1))",
    "lib.tensor([1, 2]).ldexp_(lib.tensor([3]))",
    "lib.tensor([1., 2.]).ldexp_(lib.tensor([3]))",
    "lib.ldexp_(lib.tensor([1., 2.]), lib.tensor([-1]))",
    "lib.ldexp(lib.ones(1), lib.ones(1), out=lib.empty(1))",
    # nextafter
    "lib.nextafter(lib.tensor([0.]), lib.tensor([1.]))",
    "lib.nextafter(lib.tensor([0.], dtype=lib.float16), lib.tensor([1.], dtype=lib.float16))",
    "lib.nextafter(lib.tensor([1.], dtype=lib.float64), lib.tensor([2., 0.]))",
    "lib.nextafter(lib.tensor(1., dtype=lib.float64), lib.tensor([2.])).dtype",
    "lib.nextafter(lib.tensor([1, 2]), lib.tensor([3]))",
    "lib.nextafter(lib.tensor([1, 2]), lib.tensor([3.])).dtype",
    "lib.nextafter(lib.tensor([1., 2.]), 3.0)",
    "lib.tensor([1.], dtype=lib.float64).nextafter_(lib.tensor([0.], dtype=lib.float64))",
]


def _evaluate(lib, case):
    try:
        return "value", eval(case, {"lib": lib})
    except Exception as error:  # the error is what is compared
        return "error", error


def _as_comparable(result):
    if isinstance(result, tuple):
        return [_as_comparable(r) for r in result]
    if hasattr(result, "detach"):
        return str(result.dtype).split(".")[-1], result.detach().cpu().numpy()
    return str(result).split(".")[-1]


@pytest.mark.parametrize("case", CASES)
def test_matches_torch(case):
    torch = pytest.importorskip("torch")
    kind, expected = _evaluate(torch, case)
    got_kind, got = _evaluate(tinytorch, case)
    assert got_kind == kind, f"torch gave {expected!r}, tinytorch {got!r}"
    if kind == "error":
        assert type(got) is type(expected)
        if "unsupported operand" not in str(expected):
            assert str(got) == str(expected)
        return
    expected, got = _as_comparable(expected), _as_comparable(got)
    if isinstance(expected, str):
        assert got == expected
        return
    pairs = list(zip(got, expected)) if isinstance(expected, list) else [(got, expected)]
    for (got_dtype, got_values), (dtype, values) in pairs:
        assert got_dtype == dtype
        np.testing.assert_array_equal(got_values, values)


def test_shifts_on_device(device):
    """The shifts outside the width are spelled out (CUDA leaves them undefined)."""
    x = tinytorch.tensor([1, -3, 5, -8], device=device)
    shift = tinytorch.tensor([1, 64, -1, 2], device=device)
    assert (x << shift).tolist() == [2, 0, 0, -32]
    assert (x >> shift).tolist() == [0, -1, 0, -2]
    y = x.clone()
    y <<= 1
    assert y.tolist() == [2, -6, 10, -16] and y.device.type == device
    y >>= tinytorch.tensor(2, device=device)
    assert y.tolist() == [0, -2, 2, -4]


def test_in_place_shift_bumps_version_and_keeps_dtype():
    x = tinytorch.tensor([1, 2], dtype=tinytorch.int16)
    version = x._version[0]
    assert x.bitwise_left_shift_(3) is x
    assert x._version[0] > version and x.dtype == tinytorch.int16 and x.tolist() == [8, 16]
    x.bitwise_right_shift_(tinytorch.tensor([1, 2]))  # int64 shifts: the result is cast back, as PyTorch
    assert x.dtype == tinytorch.int16 and x.tolist() == [4, 4]
    with pytest.raises(NotImplementedError, match="lshift_cpu"):
        x.bitwise_left_shift_(tinytorch.tensor([1.5]))
    assert x.tolist() == [4, 4]


def test_frexp_is_exact_and_named(device):
    values = np.array([0.1, -7.0, 1e-300, 3e300, 0.5, -1.0], dtype=np.float64)
    mantissa, exponent = tinytorch.frexp(tinytorch.tensor(values, device=device))
    result = tinytorch.frexp(tinytorch.tensor(values, device=device))
    assert result.mantissa is not None and type(result).__name__ == "frexp"
    assert exponent.dtype == tinytorch.int32 and mantissa.device.type == device
    np.testing.assert_array_equal(np.ldexp(mantissa.cpu().numpy(), exponent.cpu().numpy()), values)
    assert np.all((np.abs(mantissa.cpu().numpy()) >= 0.5) & (np.abs(mantissa.cpu().numpy()) < 1))


def test_frexp_out():
    mantissa, exponent = tinytorch.empty(3), tinytorch.empty(3, dtype=tinytorch.int32)
    result = tinytorch.frexp(tinytorch.tensor([1.0, 6.0, -0.25]), out=(mantissa, exponent))
    assert result.mantissa is mantissa and result.exponent is exponent
    assert mantissa.tolist() == [0.5, 0.75, -0.5] and exponent.tolist() == [1, 3, -1]


def test_frexp_gradient_matches_torch():
    """d mantissa / dx = 2^-exponent; the exponent has none (torch's formula)."""
    torch = pytest.importorskip("torch")
    values = [0.3, -5.0, 17.0, 1e-3]
    x = tinytorch.tensor(values, dtype=tinytorch.float64, requires_grad=True)
    xt = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    mantissa, exponent = tinytorch.frexp(x)
    assert not exponent.requires_grad
    weights = [1.0, -2.0, 0.5, 3.0]
    (mantissa * tinytorch.tensor(weights, dtype=tinytorch.float64)).sum().backward()
    (torch.frexp(xt).mantissa * torch.tensor(weights, dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-15)


def test_ldexp_gradients_match_torch():
    torch = pytest.importorskip("torch")
    a, b = [0.5, -1.5, 2.0], [1.0, -2.0, 0.5]
    x = tinytorch.tensor(a, dtype=tinytorch.float64, requires_grad=True)
    e = tinytorch.tensor(b, dtype=tinytorch.float64, requires_grad=True)
    xt = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    et = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    tinytorch.ldexp(x, e).sum().backward()
    torch.ldexp(xt, et).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(e.grad.numpy(), et.grad.numpy(), rtol=1e-12)


def test_nextafter_steps_one_ulp(device):
    x = tinytorch.tensor([1.0, 0.0, -2.0], dtype=tinytorch.float32, device=device)
    up = tinytorch.nextafter(x, tinytorch.tensor(math.inf, device=device))
    assert up.dtype == tinytorch.float32
    np.testing.assert_array_equal(up.cpu().numpy(), np.nextafter(np.float32([1.0, 0.0, -2.0]), np.float32(np.inf)))
