"""check_op passes correct Functions and shrinks a wrong backward; assert_close as torch's."""

import numpy as np
import pytest

import tinytorch
from tinytorch.testing import assert_close, check_op


class Cube(tinytorch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 3 * x * x


class Mul(tinytorch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        return grad_output * b, grad_output * a


class WrongMul(Mul):
    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        return grad_output * b, grad_output * b  # the second gradient should be grad_output * a


def test_a_correct_function_passes():
    check_op(Cube.apply, n_inputs=1, max_examples=20, seed=0)
    check_op(Mul.apply, n_inputs=2, max_examples=20, seed=0)


def test_a_correct_function_passes_against_torch():
    torch = pytest.importorskip("torch")
    check_op(Mul.apply, torch.mul, n_inputs=2, max_examples=15, seed=1)


def test_a_wrong_backward_fails_with_a_shrunk_example():
    with pytest.raises(AssertionError) as failure:
        check_op(WrongMul.apply, n_inputs=2, max_examples=50, seed=0)
    message = str(failure.value)
    assert "gradient of input 1 disagrees with finite differences" in message
    # Hypothesis shrinks to scalars: the smallest shapes that show the bug.
    assert "inputs (shapes [(), ()])" in message


def test_a_wrong_forward_fails_against_torch():
    pytest.importorskip("torch")
    with pytest.raises(AssertionError, match="output 0 differs from torch's"):
        check_op(Cube.apply, lambda x: x**3 + 1, max_examples=10, seed=0)


def test_fixed_shapes_and_kinks():
    seen = []

    def relu(x):
        seen.append(tuple(x.shape))
        return x.relu()

    check_op(relu, shapes=[(2, 3)], away_from=(0.0,), max_examples=10, seed=0)
    assert set(seen) == {(2, 3)}
    with pytest.raises(ValueError, match="n_inputs"):
        check_op(relu, shapes=[(2,), (3,)])


def test_the_number_of_inputs_comes_from_the_signature():
    calls = []

    def three(a, b, c, scale=2.0):  # a parameter with a default is not an input
        calls.append((a, b, c))
        return a * b + c * scale

    check_op(lambda a, b: a * b + a.exp(), max_examples=10, seed=0)
    check_op(three, max_examples=5, seed=0)
    check_op(Mul.apply, max_examples=5, seed=0)  # Function.apply: forward's inputs after ctx
    check_op(lambda *xs: xs[0] * xs[1], shapes=[(2,), (2,)], max_examples=5, seed=0)  # from shapes
    check_op(lambda *xs: xs[0].exp(), n_inputs=1, max_examples=3, seed=0)  # given
    assert calls and all(isinstance(t, tinytorch.Tensor) for args in calls for t in args)


@pytest.mark.parametrize("fn, reason", [
    (lambda *xs: xs[0].exp(), "it takes \\*args"),
    (max, "Python cannot read its signature"),
    (lambda a=None: a, "it has no required positional parameter"),
])
def test_an_unknown_number_of_inputs_asks_for_n_inputs(fn, reason):
    with pytest.raises(TypeError, match=f"cannot tell how many inputs .* takes \\({reason}\\): pass n_inputs"):
        check_op(fn)


def test_drawn_shapes_include_broadcasting_and_empty_dims():
    pairs = []

    def record(a, b):
        pairs.append((tuple(a.shape), tuple(b.shape)))
        return a + b

    check_op(record, n_inputs=2, max_examples=60, seed=3)
    assert any(a != b for a, b in pairs)
    assert any(0 in a or 0 in b for a, b in pairs)
    assert any(1 in a or 1 in b for a, b in pairs)


def test_assert_close_passes_within_the_dtype_tolerance():
    assert_close(tinytorch.tensor([1.0, 2.0]), tinytorch.tensor([1.0, 2.0 + 1e-6]))
    assert_close(tinytorch.tensor([1.0], dtype=tinytorch.float64), np.array([1.0 + 1e-8]))
    assert_close(tinytorch.tensor([1, 2]), tinytorch.tensor([1, 2]))
    assert_close([tinytorch.ones(2), {"a": 1.0}], [tinytorch.ones(2), {"a": 1.0}])
    assert_close(tinytorch.tensor([float("nan")]), tinytorch.tensor([float("nan")]), equal_nan=True)


def test_assert_close_reports_mismatches_like_torch():
    with pytest.raises(AssertionError) as failure:
        assert_close(tinytorch.tensor([1.0, 2.0, 3.0, 4.0]), tinytorch.tensor([1.0, 2.5, 3.0, 4.1]))
    message = str(failure.value)
    assert message.startswith("Tensor-likes are not close!")
    assert "Mismatched elements: 2 / 4 (50.0%)" in message
    assert "Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)" in message
    assert "Greatest relative difference: 0.2 at index (1,) (up to 1.3e-06 allowed)" in message
    with pytest.raises(AssertionError, match="up to 1e-07 allowed"):
        assert_close(tinytorch.tensor([1.0], dtype=tinytorch.float64), tinytorch.tensor([1.000001], dtype=tinytorch.float64))
    with pytest.raises(AssertionError, match="Greatest absolute difference: 1 "):
        assert_close(tinytorch.tensor([1, 2]), tinytorch.tensor([1, 3]))
    with pytest.raises(AssertionError):
        assert_close(tinytorch.tensor([float("nan")]), tinytorch.tensor([float("nan")]))


def test_assert_close_checks_shape_dtype_and_options():
    with pytest.raises(AssertionError, match="'shape' do not match"):
        assert_close(tinytorch.ones(2), tinytorch.ones(3))
    with pytest.raises(AssertionError, match=r"'dtype' do not match: tinytorch.float32 != tinytorch.float64"):
        assert_close(tinytorch.ones(2), tinytorch.ones(2, dtype=tinytorch.float64))
    assert_close(tinytorch.ones(2), tinytorch.ones(2, dtype=tinytorch.float64), check_dtype=False)
    assert_close(tinytorch.tensor([1.0]), tinytorch.tensor([1.1]), rtol=0.2, atol=0.0)
    with pytest.raises(ValueError, match="Both 'rtol' and 'atol'"):
        assert_close(tinytorch.ones(1), tinytorch.ones(1), rtol=1e-3)
    with pytest.raises(AssertionError, match="^custom$"):
        assert_close(tinytorch.ones(1), tinytorch.zeros(1), msg="custom")
    with pytest.raises(AssertionError, match="^prefix: Tensor-likes"):
        assert_close(tinytorch.ones(1), tinytorch.zeros(1), msg=lambda m: "prefix: " + m)
    with pytest.raises(AssertionError, match=r"length of the sequences"):
        assert_close([1.0], [1.0, 2.0])


def test_assert_close_agrees_with_torch_on_what_is_close():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for dtype in ("float32", "float64"):
        for scale in (1e-8, 1e-7, 1e-6, 1e-5, 1e-4):
            a = rng.standard_normal(50).astype(dtype)
            b = (a + scale * rng.standard_normal(50)).astype(dtype)
            ours = theirs = True
            try:
                assert_close(tinytorch.tensor(a), tinytorch.tensor(b))
            except AssertionError:
                ours = False
            try:
                torch.testing.assert_close(torch.tensor(a), torch.tensor(b))
            except AssertionError:
                theirs = False
            assert ours == theirs, (dtype, scale)
