"""Tensor basics: creation, dtypes, devices, conversion, repr, errors."""

import numpy as np
import pytest

import tinytorch


def test_default_dtypes_follow_pytorch():
    assert tinytorch.tensor([1.0, 2.0]).dtype == tinytorch.float32
    assert tinytorch.tensor(1.5).dtype == tinytorch.float32
    assert tinytorch.tensor([1, 2]).dtype == tinytorch.int64
    assert tinytorch.tensor([True]).dtype == tinytorch.bool
    assert tinytorch.tensor(np.zeros(2)).dtype == tinytorch.float64  # NumPy arrays keep theirs
    assert tinytorch.tensor([1.0], dtype=tinytorch.float64).dtype == tinytorch.float64
    assert tinytorch.arange(3).dtype == tinytorch.int64
    assert tinytorch.arange(0, 1, 0.25).dtype == tinytorch.float32
    assert tinytorch.zeros(2).dtype == tinytorch.float32
    assert tinytorch.full((2,), 7).dtype == tinytorch.int64


def test_nested_data_takes_the_dtypes_of_its_leaves_as_pytorch():
    """Each leaf has its own dtype (a NumPy scalar or a tensor keeps its own), promoted across the leaves."""
    assert tinytorch.tensor([np.float64(1.5)]).dtype == tinytorch.float64
    assert tinytorch.tensor([np.float32(1.5), 2.0]).dtype == tinytorch.float32
    assert tinytorch.tensor([np.int32(1)]).dtype == tinytorch.int32
    assert tinytorch.tensor([np.int32(1), 2]).dtype == tinytorch.int64  # a Python int is int64
    assert tinytorch.tensor([np.float16(1.0), 2]).dtype == tinytorch.float16  # a float beats an int whole
    assert tinytorch.tensor([np.float16(1.0), 2.5]).dtype == tinytorch.float32
    assert tinytorch.tensor([np.int8(1), np.uint8(2)]).dtype == tinytorch.int16
    assert tinytorch.tensor([tinytorch.tensor(1.0, dtype=tinytorch.float64), 2.0]).dtype == tinytorch.float64
    assert tinytorch.tensor([[np.float64(1)], [2.0]]).dtype == tinytorch.float64
    assert tinytorch.tensor([True, 1]).dtype == tinytorch.int64
    assert tinytorch.tensor([]).dtype == tinytorch.float32


def test_promote_types_lets_the_higher_category_win_whole():
    assert tinytorch.promote_types(tinytorch.float16, tinytorch.int64) == tinytorch.float16  # NumPy: float64
    assert tinytorch.promote_types(tinytorch.int32, tinytorch.float32) == tinytorch.float32
    assert tinytorch.promote_types(tinytorch.uint8, tinytorch.int8) == tinytorch.int16
    assert tinytorch.promote_types(tinytorch.bool, tinytorch.uint8) == tinytorch.uint8
    assert tinytorch.promote_types(tinytorch.float16, tinytorch.float64) == tinytorch.float64


def test_set_default_dtype():
    tinytorch.set_default_dtype(tinytorch.float64)
    try:
        assert tinytorch.tensor([1.0]).dtype == tinytorch.float64
        assert tinytorch.get_default_dtype() == tinytorch.float64
    finally:
        tinytorch.set_default_dtype(tinytorch.float32)
    with pytest.raises(TypeError):
        tinytorch.set_default_dtype(tinytorch.int64)


def test_type_promotion_matches_pytorch():
    f32 = tinytorch.ones(2)
    i64 = tinytorch.ones(2, dtype=tinytorch.int64)
    assert (f32 + 1).dtype == tinytorch.float32
    assert (f32 * 2.5).dtype == tinytorch.float32
    assert (i64 * 2.5).dtype == tinytorch.float32  # not float64 as in NumPy
    assert (i64 + 1).dtype == tinytorch.int64
    assert (i64 / 2).dtype == tinytorch.float32
    assert (f32 + i64).dtype == tinytorch.float32
    assert (f32 + tinytorch.tensor(1.0, dtype=tinytorch.float64)).dtype == tinytorch.float32  # 0-d does not widen
    assert (f32 + tinytorch.ones(2, dtype=tinytorch.float64)).dtype == tinytorch.float64
    assert (tinytorch.tensor([True]) + 1).dtype == tinytorch.int64


def test_shape_size_dim_numel():
    x = tinytorch.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4) and x.size(-1) == 4
    assert x.dim() == x.ndim == 3 and x.numel() == 24 and len(x) == 2
    assert repr(x.shape) == "tinytorch.Size([2, 3, 4])"


def test_item_tolist_numpy_and_number_protocols():
    x = tinytorch.tensor([[1.5, 2.0]])
    assert x.tolist() == [[1.5, 2.0]]
    assert x[0, 0].item() == 1.5
    assert float(x[0, 1]) == 2.0 and int(x[0, 1]) == 2 and bool(x[0, 0])
    assert [1, 2, 3][tinytorch.tensor(1)] == 2
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        x.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)
    assert isinstance(x.numpy(), np.ndarray) and np.asarray(x).shape == (1, 2)


def test_numpy_of_tensor_requiring_grad_raises():
    x = tinytorch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Use tensor.detach\(\).numpy\(\)"):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0, 1.0]


def test_from_numpy_shares_memory_and_tensor_copies():
    a = np.zeros(3, dtype=np.float32)
    shared = tinytorch.from_numpy(a)
    copied = tinytorch.tensor(a)
    a[0] = 5
    assert shared[0].item() == 5 and copied[0].item() == 0
    assert tinytorch.as_tensor(a).numpy() is a


def test_conversions():
    x = tinytorch.tensor([1.7, -2.2])
    assert x.long().tolist() == [1, -2] and x.long().dtype == tinytorch.int64
    assert x.double().dtype == tinytorch.float64 and x.int().dtype == tinytorch.int32
    assert x.bool().tolist() == [True, True]
    assert x.type_as(tinytorch.tensor([1])).dtype == tinytorch.int64
    assert x.to(tinytorch.float64).dtype == tinytorch.float64
    assert x.cpu() is x and x.to("cpu") is x
    c = x.clone()
    c[0] = 0
    assert x[0].item() == pytest.approx(1.7)


def test_repr_like_pytorch():
    assert repr(tinytorch.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(tinytorch.tensor([1.5, 2.25], requires_grad=True)) == "tensor([1.5000, 2.2500], requires_grad=True)"
    assert repr(tinytorch.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(tinytorch.tensor([1, 2], dtype=tinytorch.int32)) == "tensor([1, 2], dtype=tinytorch.int32)"
    assert repr(tinytorch.tensor(3.0)) == "tensor(3.)"
    x = tinytorch.tensor([1.0], requires_grad=True)
    assert repr(x + 1) == "tensor([2.], grad_fn=<AddBackward0>)"


def test_repr_aligns_nan_inf_and_scientific_entries_as_pytorch():
    nan, inf = float("nan"), float("inf")
    assert repr(tinytorch.tensor([[nan, 4.2], [1.0, 5.0]])) == "tensor([[   nan, 4.2000],\n        [1.0000, 5.0000]])"
    assert repr(tinytorch.tensor([nan, 4.25, inf])) == "tensor([   nan, 4.2500,    inf])"
    assert repr(tinytorch.tensor([inf, 3.0, -2.0])) == "tensor([inf,  3., -2.])"
    assert repr(tinytorch.tensor([-1e-5, 1.0, nan])) == "tensor([-1.0000e-05,  1.0000e+00,         nan])"
    assert repr(tinytorch.tensor([1.0, 5000.0])) == "tensor([1.0000e+00, 5.0000e+03])"  # whole numbers 1000x apart
    assert repr(tinytorch.tensor([nan])) == "tensor([nan])"
    assert repr(tinytorch.tensor([0.0, -inf])) == "tensor([0., -inf])"


def test_repr_right_aligns_booleans_as_pytorch():
    assert repr(tinytorch.tensor([True, False])) == "tensor([ True, False])"
    assert repr(tinytorch.tensor([[True], [False]])) == "tensor([[ True],\n        [False]])"
    assert repr(tinytorch.tensor([True, True])) == "tensor([True, True])"
    assert repr(tinytorch.tensor(True)) == "tensor(True)"


@pytest.mark.parametrize("shape, strides", [((0, 3), (3, 1)), ((3, 0), (1, 1)), ((2, 0, 4), (4, 4, 1)), ((0,), (1,))])
def test_empty_tensors_have_pytorchs_strides(shape, strides):
    assert tinytorch.zeros(shape).stride() == strides
    assert tinytorch.zeros(2, 3)[:, :0].stride() == (3, 1)  # a view keeps the strides it has


def test_set_printoptions_as_pytorch():
    x = tinytorch.tensor([1.12345, -2.5])
    try:
        tinytorch.set_printoptions(precision=2)
        assert repr(x) == "tensor([ 1.12, -2.50])"
        tinytorch.set_printoptions(threshold=5)
        assert repr(tinytorch.arange(10)) == "tensor([0, 1, 2,  ..., 7, 8, 9])"
        assert tinytorch.arange(10.0).__repr__() == "tensor([0., 1., 2.,  ..., 7., 8., 9.])"
        tinytorch.set_printoptions(profile="default", sci_mode=True)
        assert repr(x) == "tensor([ 1.1235e+00, -2.5000e+00])"
        tinytorch.set_printoptions(profile="short")  # sci_mode returns to automatic
        assert repr(x) == "tensor([ 1.12, -2.50])"
        tinytorch.set_printoptions(profile="default", threshold=5, edgeitems=1)
        # the columns are sized from the elements shown: 1000.5 in the middle does not widen them
        assert repr(tinytorch.tensor([1.5, 2.0, 1000.5, 3.0, 4.0, 5.25])) == "tensor([1.5000,  ..., 5.2500])"
        assert repr(tinytorch.arange(20.0).reshape(4, 5)) == "tensor([[ 0.,  ...,  4.],\n        ...,\n        [15.,  ..., 19.]])"
        tinytorch.set_printoptions(profile="default", sci_mode=True)
        assert repr(tinytorch.tensor([1.0, -2.0])) == "tensor([ 1.0000e+00, -2.0000e+00])"
        assert repr(tinytorch.tensor([0.0, 0.0])) == "tensor([0., 0.])"  # nothing nonzero: sci_mode is not read
        tinytorch.set_printoptions(sci_mode=False)
        assert repr(tinytorch.tensor([1e-8, 1.0])) == "tensor([0.0000, 1.0000])"
        tinytorch.set_printoptions(linewidth=40)
        assert repr(tinytorch.arange(12.0)) == "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,\n         6.,  7.,  8.,  9., 10., 11.])"
    finally:
        tinytorch.set_printoptions(profile="default")
    assert repr(x) == "tensor([ 1.1235, -2.5000])"


def test_repr_moves_a_suffix_that_passes_80_columns_to_its_own_line():
    x = tinytorch.tensor([-132.1049, 640.4227, 104.9001, -535.6694, 361.5951, 1304.0], dtype=tinytorch.float64)
    assert repr(x) == (  # 73 columns, and the suffix needs 2 + 24 more: PyTorch prints the same, torch for tinytorch
        "tensor([-132.1049,  640.4227,  104.9001, -535.6694,  361.5951, 1304.0000],\n"
        "       dtype=tinytorch.float64)"
    )
    assert repr(tinytorch.tensor([0.1, 2.5], dtype=tinytorch.float64, requires_grad=True)) == (
        "tensor([0.1000, 2.5000], dtype=tinytorch.float64, requires_grad=True)"
    )


def test_iteration_and_unbind():
    rows = list(tinytorch.arange(6).reshape(2, 3))
    assert [r.tolist() for r in rows] == [[0, 1, 2], [3, 4, 5]]


def test_random_creation_is_seeded():
    tinytorch.manual_seed(7)
    a = tinytorch.randn(3)
    tinytorch.manual_seed(7)
    b = tinytorch.randn(3)
    assert a.tolist() == b.tolist()
    assert sorted(tinytorch.randperm(5).tolist()) == [0, 1, 2, 3, 4]
    r = tinytorch.randint(0, 10, (100,))
    assert r.dtype == tinytorch.int64 and 0 <= r.min().item() and r.max().item() < 10
    u = tinytorch.rand(1000)
    assert 0 <= u.min().item() and u.max().item() < 1


def test_generator_and_rng_state():
    g = tinytorch.Generator().manual_seed(3)
    first = tinytorch.rand(4, generator=g)
    state = tinytorch.get_rng_state()
    x = tinytorch.rand(3)
    tinytorch.set_rng_state(state)
    assert tinytorch.rand(3).tolist() == x.tolist()
    assert tinytorch.rand(4, generator=tinytorch.Generator().manual_seed(3)).tolist() == first.tolist()


def test_creation_functions():
    assert tinytorch.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert tinytorch.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert tinytorch.ones_like(tinytorch.zeros(2, dtype=tinytorch.int64)).dtype == tinytorch.int64
    assert tinytorch.full((2, 2), 1.5).tolist() == [[1.5, 1.5], [1.5, 1.5]]
    assert tinytorch.empty(2, 3).shape == (2, 3)
    assert tinytorch.zeros((2, 3)).shape == (2, 3)


# -- errors name the problem the way PyTorch does --------------------------------------------------
def test_matmul_shape_error_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(12x784 and 512x256\)"):
        tinytorch.zeros(12, 784) @ tinytorch.zeros(512, 256)


def test_broadcast_error_names_sizes():
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton dimension 1"):
        tinytorch.zeros(2, 3) + tinytorch.zeros(2, 4)


def test_reshape_and_view_errors():
    with pytest.raises(RuntimeError, match=r"shape '\[5, 5\]' is invalid for input of size 12"):
        tinytorch.zeros(3, 4).reshape(5, 5)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        tinytorch.zeros(3, 4).t().view(12)
    assert tinytorch.zeros(3, 4).t().reshape(12).shape == (12,)


def test_dim_errors():
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        tinytorch.zeros(2, 3).sum(2)
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times"):
        tinytorch.zeros(2, 3).sum((0, 0))


def test_index_errors():
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 3"):
        tinytorch.zeros(3)[5]
    with pytest.raises(IndexError, match="too many indices"):
        tinytorch.zeros(3)[0, 0]
    with pytest.raises(IndexError, match="tensors used as indices must be long"):
        tinytorch.zeros(3)[tinytorch.tensor([0.0])]


def test_cat_and_stack_errors():
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 0"):
        tinytorch.cat([tinytorch.zeros(2, 3), tinytorch.zeros(2, 4)])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        tinytorch.stack([tinytorch.zeros(2), tinytorch.zeros(3)])


def test_expand_error():
    with pytest.raises(RuntimeError, match="must match the existing size"):
        tinytorch.zeros(2, 3).expand(2, 4)


def test_device_parsing_and_errors():
    assert str(tinytorch.device("cuda:1")) == "cuda:1" and tinytorch.device("cpu").type == "cpu"
    assert tinytorch.zeros(1).device == tinytorch.device("cpu")
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        tinytorch.device("tpu")
    if not tinytorch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA|CuPy"):
            tinytorch.zeros(2, device="cuda")


def test_max_min_sort_topk_return_pytorch_named_tuples():
    x = tinytorch.tensor([[1.0, 3.0], [2.0, 0.0]])
    result = x.max(1)
    assert type(result).__name__ == "max" and result.indices.tolist() == [1, 0]
    assert repr(result).startswith("tinytorch.return_types.max(\nvalues=tensor([3., 2.]),")
    assert type(x.min(0)).__name__ == "min" and type(x.sort()).__name__ == "sort"
    values, indices = x.topk(1)
    assert values.tolist() == [[3.0], [2.0]] and indices.tolist() == [[1], [0]]


@pytest.mark.parametrize("lib_name", ["tinytorch", "torch"])
def test_operators_refuse_lists_and_compare_unrelated_objects_by_identity(lib_name):
    lib = pytest.importorskip(lib_name)
    t = lib.ones(2)
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for \+: 'Tensor' and 'list'"):
        t + [1, 2]
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for \*=: 'Tensor' and 'list'"):
        t *= [1, 2]
    assert (t == None) is False and (t != "a") is True  # noqa: E711
    assert (t + np.array([1.0, 2.0])).tolist() == [2.0, 3.0]  # NumPy arrays are operands
    assert (np.float32(2) * t).tolist() == [2.0, 2.0]


def test_maximum_refuses_a_list_as_pytorch():
    with pytest.raises(TypeError, match=r"maximum\(\): argument 'other' \(position 2\) must be Tensor, not list"):
        tinytorch.maximum(tinytorch.ones(2), [1, 2])
    with pytest.raises(TypeError, match=r"minimum\(\): argument 'input' \(position 1\) must be Tensor, not list"):
        tinytorch.minimum([1, 2], tinytorch.ones(2))
