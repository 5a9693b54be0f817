"""Random numbers: ``Generator`` (NumPy's PCG64 on the CPU, CuPy's on a GPU), ``manual_seed``,
the default generator, RNG state for exact resume, and the in-place samplers."""

import json

import numpy as np

from . import _backend as backend, _dtypes as dtypes
from ._ops.indexing import check_inplace
from ._tensor import Tensor


class Generator:
    """A source of random numbers for one device, like ``torch.Generator``."""

    def __init__(self, device="cpu"):
        self.device = backend.as_device(device)
        self._seed = 67280421310721  # PyTorch's default initial seed
        self._reset()

    def _reset(self):
        if self.device.type == "cpu":
            self._rng = np.random.Generator(np.random.PCG64(self._seed))
        else:
            cupy = backend.array_module(self.device)
            with backend.on_device(self.device):
                self._rng = cupy.random.default_rng(self._seed)

    def manual_seed(self, seed):
        self._seed = int(seed) & 0xFFFF_FFFF_FFFF_FFFF
        self._reset()
        return self

    def seed(self):
        self._seed = int(np.random.SeedSequence().entropy) & 0xFFFF_FFFF_FFFF_FFFF
        self._reset()
        return self._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The generator state as a uint8 tensor (so it saves with ``tinytorch.save``)."""
        if self.device.type != "cpu":
            raise RuntimeError("get_state() of a CUDA generator is not supported by tinytorch; reseed it instead")
        state = json.dumps(self._rng.bit_generator.state).encode()
        return Tensor._make(np.frombuffer(state, dtype=np.uint8).copy())

    def set_state(self, new_state):
        if self.device.type != "cpu":
            raise RuntimeError("set_state() of a CUDA generator is not supported by tinytorch")
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a tinytorch.ByteTensor, but got {type(new_state).__name__}")
        if new_state._data.dtype != np.uint8:
            raise TypeError("RNG state must be a tinytorch.ByteTensor")
        try:
            state = json.loads(bytes(np.asarray(new_state._data, dtype=np.uint8)).decode())
            self._rng.bit_generator.state = state
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as error:
            raise RuntimeError(f"Invalid generator state: {error}") from None
        return self

    @property
    def numpy(self):
        """The underlying NumPy (or CuPy) generator."""
        return self._rng


default_generator = Generator("cpu")
_cuda_generators = {}
# Set by ``func._vmap`` while a vmap runs, None otherwise: called with the Generator before each draw,
# it refuses the draw (randomness="error") or hands every batch element one stream ("same"). Every
# random op draws through ``generator_for``, so this one check covers them all.
_vmap_random_hook = None


def generator_for(device, generator=None):
    """The generator to draw from for ``device``: the one given, or that device's default."""
    device = backend.as_device(device)
    if generator is not None:
        if not isinstance(generator, Generator):
            raise TypeError(f"generator must be a tinytorch.Generator, but got {type(generator).__name__}")
        if generator.device.type != device.type:
            raise RuntimeError(f"Expected a '{device.type}' device type for generator but found '{generator.device.type}'")
    elif device.type == "cpu":
        generator = default_generator
    else:
        generator = cuda_generator(backend.cuda_index(device))
    if _vmap_random_hook is not None:
        _vmap_random_hook(generator)
    return generator._rng


def cuda_generator(index):
    """GPU ``index``'s default generator, made at its first use (seeded as the CPU's was)."""
    if index not in _cuda_generators:
        _cuda_generators[index] = Generator(backend.device("cuda", index)).manual_seed(default_generator.initial_seed())
    return _cuda_generators[index]


def manual_seed(seed):
    """Seed every device's default generator; returns the CPU generator, as PyTorch."""
    default_generator.manual_seed(seed)
    for gen in _cuda_generators.values():
        gen.manual_seed(seed)
    return default_generator


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    """The CPU generator's state (a uint8 tensor) for ``set_rng_state``."""
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


# -- in-place samplers (nn.init and Dropout use these) --------------------------------------------
# Each checks its arguments (PyTorch's exception and words) before it draws or writes anything.
def _fill(tensor, sample):
    check_inplace(tensor)
    data = tensor._data
    backend.array_module(data).copyto(data, sample, casting="unsafe")
    tensor._version[0] += 1
    return tensor


def _float_dtype(tensor):
    """The dtype to draw in: the tensor's (float16 draws in float32)."""
    kind = tensor._data.dtype
    return np.dtype(np.float32) if kind == np.float16 else kind


def _not_implemented(kernel, tensor):
    return NotImplementedError(f'"{kernel}" not implemented for \'{dtypes.scalar_type_name(tensor._data.dtype)}\'')


def _float_argument(function, name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{function}(): argument '{name}' must be float, not {type(value).__name__}")
    return float(value)


def check_uniform_bounds(tensor, a, b):
    """PyTorch's checks for U(a, b) in a floating-point tensor."""
    data = tensor._data
    if data.dtype.kind != "f":
        raise _not_implemented("check_uniform_bounds", tensor)
    a, b = _float_argument("uniform_", "from", a), _float_argument("uniform_", "to", b)
    info = np.finfo(data.dtype)
    lowest, largest = float(info.min), float(info.max)
    for value, name in ((a, "from"), (b, "to")):
        if not lowest <= value <= largest:  # NaN and infinities included
            raise RuntimeError(f"{name} is out of bounds for {dtypes.cpp_type_name(data.dtype)}")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a:g} > to={b:g}")
    if b - a > largest:
        raise RuntimeError(
            f"uniform_ expects to-from <= std::numeric_limits<{dtypes.scalar_type_name(data.dtype)}>::max(), "
            f"but found to={b:g} and from={a:g} which result in to-from to exceed the limit"
        )
    return a, b


def check_normal_args(tensor, mean, std):
    """PyTorch's checks for N(mean, std^2) in a floating-point tensor."""
    mean, std = _float_argument("normal_", "mean", mean), _float_argument("normal_", "std", std)
    if not std >= 0.0:  # NaN too
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    if tensor._data.dtype.kind != "f":
        raise _not_implemented("normal_kernel_cpu", tensor)
    return mean, std


def check_random_bounds(low, high, numpy_dtype):
    """PyTorch's range check for random integers [low, high) stored in an integer or bool dtype."""
    d = np.dtype(numpy_dtype)
    if d.kind == "b":
        smallest, largest = 0, 1
    elif d.kind in "iu":
        smallest, largest = int(np.iinfo(d).min), int(np.iinfo(d).max)
    else:
        return
    if low < smallest:
        raise RuntimeError(f"from is out of bounds for {dtypes.cpp_type_name(d)}")
    if high - 1 > largest:
        raise RuntimeError(f"to - 1 is out of bounds for {dtypes.cpp_type_name(d)}")


def uniform_(tensor, a=0.0, b=1.0, *, generator=None):
    a, b = check_uniform_bounds(tensor, a, b)
    rng = generator_for(tensor.device, generator)
    return _fill(tensor, rng.uniform(a, b, size=tensor._data.shape).astype(_float_dtype(tensor), copy=False))


def normal_(tensor, mean=0.0, std=1.0, *, generator=None):
    mean, std = check_normal_args(tensor, mean, std)
    rng = generator_for(tensor.device, generator)
    sample = rng.standard_normal(size=tensor._data.shape, dtype=_float_dtype(tensor))
    sample *= std
    sample += mean
    return _fill(tensor, sample)


def bernoulli_(tensor, p=0.5, *, generator=None):
    if isinstance(p, Tensor):
        p.expand(tensor.shape)  # PyTorch's error for a p that does not broadcast to the tensor
        probabilities = p._data
        if probabilities.size:
            backend.check_later(~((probabilities >= 0) & (probabilities <= 1)).all(), _bernoulli_tensor_out_of_range)
    else:
        probabilities = _float_argument("bernoulli_", "p", p)
        if not 0 <= probabilities <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={probabilities:g}")
    rng = generator_for(tensor.device, generator)
    # float32 draws for a number p: half the random bits of float64 and ~2x faster (dropout's masks);
    # a probability given as a tensor keeps full precision.
    draws = rng.random(size=tensor._data.shape, dtype=np.float64 if isinstance(p, Tensor) else np.float32)
    return _fill(tensor, draws < probabilities)


def _bernoulli_tensor_out_of_range():
    raise RuntimeError(
        "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  "
        "(Could this error message be improved?  If so, please report an enhancement request to PyTorch.)"
    )


def exponential_(tensor, lambd=1.0, *, generator=None):
    if tensor._data.dtype.kind != "f":
        raise RuntimeError(
            "Exponential distribution is a continuous probability distribution. dtype must be a floating point "
            f"but you specified {dtypes.scalar_type_name(tensor._data.dtype)}"
        )
    lambd = _float_argument("exponential_", "lambd", lambd)
    if not lambd > 0.0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    rng = generator_for(tensor.device, generator)
    return _fill(tensor, rng.exponential(1.0 / lambd, size=tensor._data.shape))


def random_(tensor, low=None, high=None, *, generator=None):
    """Integers in [low, high) (``random_(high)``: from 0; no bounds: [0, 2^24))."""
    if high is None:
        low, high = 0, (2**24 if low is None else low)
    elif low is None:
        low = 0
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    check_random_bounds(low, high, tensor._data.dtype)
    rng = generator_for(tensor.device, generator)
    return _fill(tensor, rng.integers(low, high, size=tensor._data.shape))
