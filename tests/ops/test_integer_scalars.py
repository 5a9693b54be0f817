"""Python ints with integer tensors, as PyTorch: an operand of arithmetic, bitwise ops and
comparisons is wrapped into the tensor's dtype (C's cast: ``uint8 + 300`` adds 44, ``uint8 < 300``
compares with 44), while a value to be stored or a scalar argument (a fill, a clamp bound, an
exponent, ``alpha``, ``value``) is converted with an overflow check; true division keeps the
number. NumPy refuses such ints (OverflowError), and comparing without the wrap gave silently
different answers."""

import pytest

import tinytorch

torch = pytest.importorskip("torch")

EXPRESSIONS = [
    # wrapped operands
    "a + 300", "a * 300", "a - 300", "300 - a", "a // 300", "a % 300", "a + (-1)", "a & 300", "a | 300", "a ^ 300",
    "a << 300", "a >> 300", "L.add(a, 300)", "a.add(300)", "a.add_(300)", "a.mul_(300)", "L.fmod(a, 300)",
    "L.remainder(a, 300)", "L.floor_divide(a, 300)", "L.div(a, 300, rounding_mode='floor')",
    "L.div(a, 300, rounding_mode='trunc')", "a + 2**40", "a + 2**63", "L.tensor([1, 2]) + 2**63",
    "L.tensor([1, 2], dtype=L.int8) + 200", "L.tensor([1, 2], dtype=L.int8) * 1000", "L.tensor([True, False]) + 300",
    "L.maximum(a, L.tensor(300))", "L.isin(a, 300)", "L.add(a, 2, alpha=200)",
    # comparisons with the wrapped number
    "a < 300", "a == 306", "a > -1", "a.lt(300)", "L.eq(a, 300)", "a.ne(300)", "a.ge(300)", "a.le(-1)",
    "L.tensor([1, 2], dtype=L.int8) < 200", "L.tensor([True, False]) < 300",
    # true division: the number as it is
    "a / 300", "300 / a", "L.true_divide(a, 300)",
    # checked conversions: refused past the range, unsigned takes negatives down to -max
    "a.add(1, alpha=300)", "a ** 300", "a ** 257", "L.where(a > 1, a, 300)", "a.masked_fill(a > 1, 300)",
    "a.masked_fill(a > 1, -1)", "a.index_fill(0, L.tensor([0]), 300)", "a.clamp(0, 300)", "a.clamp(min=-1)",
    "L.clamp(a, max=300)", "a.clamp(min=-256)", "a.fill_(300)", "a.fill_(-255)", "L.full((2,), 300, dtype=L.uint8)",
    "L.full((2,), -1, dtype=L.uint8)", "L.full((2,), 2**31, dtype=L.int32)", "L.full((2,), 2**63, dtype=L.int64)",
    "L.full((2,), 2**15, dtype=L.int16)", "a.new_full((2,), 300)", "L.full_like(a, 300)", "a.addcmul(a, a, value=300)",
    # past what PyTorch unpacks from an int
    "a + 2**64", "a.float() + 2**64",
]


def _run(lib, expression):
    a = lib.tensor([1, 2, 50], dtype=lib.uint8)
    try:
        result = eval(expression, {"L": lib, "a": a})
    except Exception as error:  # the error is the outcome being compared
        return type(error).__name__, str(error)
    return result.tolist(), str(result.dtype).rpartition(".")[2]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_int_scalars_match_torch(expression):
    assert _run(tinytorch, expression) == _run(torch, expression)


def test_an_int_past_the_range_does_not_touch_the_tensor():
    a = tinytorch.tensor([1, 2, 50], dtype=tinytorch.uint8)
    with pytest.raises(RuntimeError, match="value cannot be converted to type uint8_t without overflow"):
        a.fill_(300)
    assert a.tolist() == [1, 2, 50]
