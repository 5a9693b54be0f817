"""finfo / iinfo and the numeric constants, against torch's values, reprs and errors."""

import math

import pytest

import tinytorch

FLOATS = ["float16", "float32", "float64"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]


@pytest.mark.parametrize("name", FLOATS)
def test_finfo_matches_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = tinytorch.finfo(getattr(tinytorch, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field
        assert type(getattr(ours, field)) is type(getattr(theirs, field)), field
    assert repr(ours) == repr(theirs) and str(ours) == str(theirs)


@pytest.mark.parametrize("name", INTS)
def test_iinfo_matches_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = tinytorch.iinfo(getattr(tinytorch, name)), torch.iinfo(getattr(torch, name))
    for field in ("bits", "max", "min", "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field
        assert type(getattr(ours, field)) is type(getattr(theirs, field)), field
    assert repr(ours) == repr(theirs)


def test_finfo_defaults_to_the_default_dtype():
    assert tinytorch.finfo().dtype == "float32"
    assert tinytorch.finfo().eps == 2.0 ** -23
    tinytorch.set_default_dtype(tinytorch.float64)
    try:
        assert tinytorch.finfo().dtype == "float64"
    finally:
        tinytorch.set_default_dtype(tinytorch.float32)


def test_python_types_read_as_torch_reads_them():
    assert tinytorch.finfo(float).dtype == "float64"
    assert tinytorch.iinfo(int).dtype == "int64"
    assert tinytorch.finfo(type=tinytorch.float16).bits == 16


@pytest.mark.parametrize("make, argument", [
    (tinytorch.finfo, tinytorch.int32), (tinytorch.finfo, tinytorch.bool), (tinytorch.finfo, int),
    (tinytorch.finfo, "float32"), (tinytorch.finfo, None),
    (tinytorch.iinfo, tinytorch.float32), (tinytorch.iinfo, tinytorch.bool), (tinytorch.iinfo, "int32"),
    (tinytorch.iinfo, None), (tinytorch.iinfo, float),
])
def test_wrong_kind_of_dtype_is_torchs_type_error(make, argument):
    torch = pytest.importorskip("torch")
    torch_argument = getattr(torch, argument.name) if isinstance(argument, tinytorch.dtype) else argument
    with pytest.raises(TypeError) as expected:
        getattr(torch, make.__name__)(torch_argument)
    with pytest.raises(TypeError) as got:
        make(argument)
    assert str(got.value) == str(expected.value)


def test_iinfo_needs_an_argument():
    with pytest.raises(TypeError):
        tinytorch.iinfo()


def test_info_objects_are_read_only_unhashable_and_compare_by_dtype():
    info = tinytorch.finfo(tinytorch.float32)
    with pytest.raises(AttributeError, match="not writable"):
        info.eps = 1.0
    with pytest.raises(TypeError):
        hash(info)
    assert info == tinytorch.finfo(tinytorch.float32) and info != tinytorch.finfo(tinytorch.float64)
    assert tinytorch.iinfo(tinytorch.int8) == tinytorch.iinfo(tinytorch.int8)
    assert tinytorch.iinfo(tinytorch.int8) != tinytorch.finfo()


def test_limits_are_the_dtypes_own():
    # eps is the gap above 1, max the largest finite value, tiny the smallest normal number.
    for name in FLOATS:
        d = getattr(tinytorch, name)
        info = tinytorch.finfo(d)
        one = tinytorch.ones(1, dtype=d)
        assert (one + info.eps).item() > 1 and (one + info.eps / 4).item() == 1
        assert math.isfinite(tinytorch.tensor([info.max], dtype=d).item())
        assert math.isinf((tinytorch.tensor([info.max], dtype=d) * 2).item())
    assert tinytorch.iinfo(tinytorch.uint8).max == 255 and tinytorch.iinfo(tinytorch.int64).min == -2**63


def test_constants_match_torch():
    torch = pytest.importorskip("torch")
    assert (tinytorch.pi, tinytorch.e, tinytorch.inf) == (torch.pi, torch.e, torch.inf)
    assert math.isnan(tinytorch.nan) and tinytorch.newaxis is torch.newaxis is None
    assert tinytorch.zeros(3)[:, tinytorch.newaxis].shape == (3, 1)
