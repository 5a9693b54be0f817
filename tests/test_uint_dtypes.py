"""uint16, uint32 and uint64 (PyTorch's "barebones" unsigned dtypes) against torch: the dtype
objects, iinfo, promotion (only with themselves and floating types), creation and casts, the ops
torch supports for them, and safetensors' U16/U32/U64 in save/load."""

import io

import numpy as np
import pytest

import tinytorch
from tinytorch import _dtypes

UNSIGNED = ["uint16", "uint32", "uint64"]
ALL = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"] + UNSIGNED


def name_of(dtype):
    return str(dtype).split(".")[-1]


@pytest.mark.parametrize("name", UNSIGNED)
def test_dtype_objects_as_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(tinytorch, name), getattr(torch, name)
    assert repr(ours) == repr(theirs).replace("torch.", "tinytorch.")
    assert (ours.itemsize, ours.is_signed, ours.is_floating_point) == (theirs.itemsize, theirs.is_signed,
                                                                      theirs.is_floating_point)
    assert _dtypes.scalar_type_name(ours) == "UInt" + name[4:]
    assert tinytorch.tensor([1], dtype=ours).type() == f"tinytorch.UInt{name[4:]}Tensor"


@pytest.mark.parametrize("name", UNSIGNED)
def test_iinfo_as_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = tinytorch.iinfo(getattr(tinytorch, name)), torch.iinfo(getattr(torch, name))
    assert (ours.bits, ours.min, ours.max, ours.dtype) == (theirs.bits, theirs.min, theirs.max, theirs.dtype)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("other", ALL)
@pytest.mark.parametrize("name", UNSIGNED)
def test_promote_types_as_torch(name, other):
    torch = pytest.importorskip("torch")
    for a, b in ((name, other), (other, name)):
        try:
            expected = name_of(torch.promote_types(getattr(torch, a), getattr(torch, b)))
        except RuntimeError as error:
            with pytest.raises(RuntimeError) as info:
                tinytorch.promote_types(getattr(tinytorch, a), getattr(tinytorch, b))
            assert str(info.value) == str(error)
        else:
            assert name_of(tinytorch.promote_types(getattr(tinytorch, a), getattr(tinytorch, b))) == expected


@pytest.mark.parametrize("name", UNSIGNED)
def test_creation_and_casts_as_torch(name):
    torch = pytest.importorskip("torch")
    results = []
    for lib in (torch, tinytorch):
        d = getattr(lib, name)
        made = [
            lib.tensor([0, 1, 65535], dtype=d), lib.zeros(2, 3, dtype=d),
            lib.ones(3, dtype=d), lib.full((2,), 9, dtype=d), lib.zeros_like(lib.ones(2, dtype=d)),
            lib.tensor([1.7, 300.2, 0.0]).to(d), lib.tensor([-2, 70000]).to(d), lib.tensor([True, False]).to(d),
            lib.tensor([3, 4], dtype=d).to(lib.float64), lib.tensor([3, 4], dtype=d).long(),
            lib.tensor([3, 0], dtype=d).bool(), lib.empty(4, dtype=d).zero_(),
        ]
        results.append([(name_of(t.dtype), t.tolist()) for t in made])
    assert results[1] == results[0]


@pytest.mark.parametrize("name", UNSIGNED)
def test_from_numpy_keeps_the_dtype(name):
    array = np.array([1, 2, np.iinfo(name).max], dtype=name)
    t = tinytorch.from_numpy(array)
    assert t.dtype == getattr(tinytorch, name) and t.tolist() == array.tolist()
    assert tinytorch.tensor(array).dtype == getattr(tinytorch, name)
    assert t.numpy().dtype == np.dtype(name)


@pytest.mark.parametrize("name", ["uint16", "uint32", "uint64"])
def test_negative_python_ints_as_torch(name):
    """-1 wraps to the maximum in uint16/uint32; uint64 refuses it (torch unpacks a uint64)."""
    torch = pytest.importorskip("torch")
    outcomes = []
    for lib in (torch, tinytorch):
        try:
            outcomes.append(lib.tensor([-1, 7], dtype=getattr(lib, name)).tolist())
        except OverflowError as error:
            outcomes.append(("OverflowError", str(error)))
    assert outcomes[1] == outcomes[0]


def test_python_ints_past_int64_make_uint64():
    assert tinytorch.tensor([0, 2**64 - 1], dtype=tinytorch.uint64).tolist() == [0, 2**64 - 1]
    assert tinytorch.tensor([[True, 3], [2**63, 0]], dtype=tinytorch.uint64).tolist() == [[1, 3], [2**63, 0]]
    with pytest.raises(OverflowError, match="int too big to convert"):
        tinytorch.tensor([2**64], dtype=tinytorch.uint64)


@pytest.mark.parametrize("name", UNSIGNED)
def test_ops_torch_refuses_compute_with_numpys_unsigned_arithmetic(name):
    """A documented difference (docs/differences.md): PyTorch 2.13 refuses add, lt, neg, max,
    flip and most other kernels for these dtypes; tinytorch runs NumPy's, which wrap as C does."""
    a = tinytorch.tensor([1, 2], dtype=getattr(tinytorch, name))
    top = np.iinfo(name).max
    assert (a + a).tolist() == [2, 4] and (a + a).dtype == a.dtype
    assert (a < a.flip(0)).tolist() == [True, False]
    assert (-a).tolist() == [top, top - 1]
    assert a.max().item() == 2


def test_values_past_the_dtype_are_torchs_error():
    torch = pytest.importorskip("torch")
    for lib in (torch, tinytorch):
        with pytest.raises(RuntimeError, match="value cannot be converted to type uint16 without overflow"):
            lib.tensor([70000], dtype=lib.uint16)


@pytest.mark.parametrize("name", UNSIGNED)
def test_no_gradients(name):
    with pytest.raises(RuntimeError, match="Only Tensors of floating point and complex dtype can require gradients"):
        tinytorch.zeros(2, dtype=getattr(tinytorch, name), requires_grad=True)


SUPPORTED = {  # the ops torch 2.13 runs for these dtypes on the CPU
    "eq": lambda lib, a, b: a == b, "ne": lambda lib, a, b: a != b, "eq_scalar": lambda lib, a, b: a == 5,
    "and": lambda lib, a, b: a & b, "or": lambda lib, a, b: a | b, "xor": lambda lib, a, b: a ^ b,
    "and_scalar": lambda lib, a, b: a & 1, "mul": lambda lib, a, b: a * b, "div": lambda lib, a, b: a / b,
    "mul_float": lambda lib, a, b: a * 1.5, "sum": lambda lib, a, b: a.sum(), "cumsum": lambda lib, a, b: a.cumsum(0),
    "sort": lambda lib, a, b: a.sort().values, "argsort": lambda lib, a, b: a.argsort(),
    "cat": lambda lib, a, b: lib.cat([a, b]), "stack": lambda lib, a, b: lib.stack([a, b]),
    "index": lambda lib, a, b: a[lib.tensor([0, 2])], "slice": lambda lib, a, b: a[1:], "sqrt": lambda lib, a, b: a.sqrt(),
    "any": lambda lib, a, b: a.any(), "all": lambda lib, a, b: a.all(), "unique": lambda lib, a, b: lib.unique(a),
    "roll": lambda lib, a, b: a.roll(1), "repeat": lambda lib, a, b: a.repeat(2), "diag": lambda lib, a, b: a.diag(),
    "isnan": lambda lib, a, b: a.isnan(), "lt_float": lambda lib, a, b: a < lib.tensor([1.0, 5.0, 3.5]),
    "fill_": lambda lib, a, b: a.clone().fill_(7), "copy_": lambda lib, a, b: lib.zeros_like(a).copy_(b),
    "equal": lambda lib, a, b: lib.tensor(lib.equal(a, b)),
}


@pytest.mark.parametrize("op", sorted(SUPPORTED))
@pytest.mark.parametrize("name", UNSIGNED)
def test_supported_ops_as_torch(name, op):
    torch = pytest.importorskip("torch")
    results = []
    for lib in (torch, tinytorch):
        d = getattr(lib, name)
        out = SUPPORTED[op](lib, lib.tensor([1, 5, 3], dtype=d), lib.tensor([3, 5, 1], dtype=d))
        results.append((name_of(out.dtype), out.tolist()))
    assert results[1] == results[0]


@pytest.mark.parametrize("name", UNSIGNED)
def test_mixed_integer_operands_are_torchs_error(name):
    """torch refuses uint16 with int64 (promotion), though a scalar int keeps the tensor's dtype."""
    torch = pytest.importorskip("torch")
    a = tinytorch.tensor([1, 2], dtype=getattr(tinytorch, name))
    assert (a * 3).dtype == a.dtype and (a * 3).tolist() == (torch.tensor([1, 2], dtype=getattr(torch, name)) * 3).tolist()
    with pytest.raises(RuntimeError, match="Promotion for uint16, uint32, uint64 types is not supported"):
        tinytorch.promote_types(a.dtype, tinytorch.int64)


def test_save_load_round_trip():
    state = {name: tinytorch.from_numpy(np.array([0, 1, np.iinfo(name).max], dtype=name)) for name in UNSIGNED}
    buffer = io.BytesIO()
    tinytorch.save(state, buffer)
    buffer.seek(0)
    loaded = tinytorch.load(buffer)
    for name in UNSIGNED:
        assert loaded[name].dtype == state[name].dtype
        assert loaded[name].tolist() == [0, 1, int(np.iinfo(name).max)]


def test_safetensors_files_with_unsigned_dtypes(tmp_path):
    """Files safetensors writes for torch's uint16/32/64 (U16, U32, U64) load with those dtypes."""
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    path = tmp_path / "unsigned.safetensors"
    safetensors_torch.save_file({name: torch.tensor([1, 2, 3], dtype=getattr(torch, name)) for name in UNSIGNED}, str(path))
    loaded = tinytorch.load(str(path))
    for name in UNSIGNED:
        assert loaded[name].dtype == getattr(tinytorch, name) and loaded[name].tolist() == [1, 2, 3]


@pytest.mark.parametrize("name", UNSIGNED)
def test_messages_name_the_dtype_as_torch(name):
    """PyTorch's C++ type name in a dtype-mismatch message (cpp_type_name), and result_type with numbers."""
    torch = pytest.importorskip("torch")
    messages = []
    for lib in (torch, tinytorch):
        with pytest.raises(RuntimeError) as info:
            lib.mm(lib.ones(2, 2), lib.ones(2, 2, dtype=getattr(lib, name)))
        messages.append(str(info.value))
    assert messages[1] == messages[0]
    ours = tinytorch.tensor([1], dtype=getattr(tinytorch, name))
    theirs = torch.tensor([1], dtype=getattr(torch, name))
    for number in (1, 1.5, True):
        assert name_of(tinytorch.result_type(ours, number)) == name_of(torch.result_type(theirs, number))


DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64", *UNSIGNED]


@pytest.mark.parametrize("first", DTYPES)
def test_result_type_of_two_tensors_matches_torch(first):
    """``result_type`` and a binary op's dtype for every pair of dtypes, dimensioned and 0-d,
    as PyTorch: uint16/32/64 promote only with themselves and floating types (a RuntimeError
    naming both otherwise), a 0-d tensor widens only across categories."""
    torch = pytest.importorskip("torch")
    for second in DTYPES:
        for shapes in (((2,), (2,)), ((2,), ()), ((), (2,)), ((), ())):
            results = []
            for lib in (torch, tinytorch):
                a = lib.ones(shapes[0], dtype=getattr(lib, first))
                b = lib.ones(shapes[1], dtype=getattr(lib, second))
                try:
                    results.append(name_of(lib.result_type(a, b)))
                except RuntimeError as error:
                    results.append(str(error))
            assert results[1] == results[0], (first, second, shapes)
            if "not supported" in results[0]:
                with pytest.raises(RuntimeError, match="Promotion for uint16, uint32, uint64 types is not supported"):
                    tinytorch.ones(shapes[0], dtype=getattr(tinytorch, first)) * tinytorch.ones(shapes[1], dtype=getattr(tinytorch, second))
