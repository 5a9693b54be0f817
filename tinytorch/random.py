"""Random numbers: ``Generator`` (NumPy's PCG64 on the CPU, CuPy's on a GPU), ``manual_seed``,
the default generator, RNG state for exact resume, and the in-place samplers."""

import json

import numpy as np

from . import _backend as backend, _dtypes as dtypes


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
        from ._tensor import Tensor

        if self.device.type != "cpu":
            raise RuntimeError("get_state() of a CUDA generator is not supported by tinytorch; reseed it instead")
        state = json.dumps(self._rng.bit_generator.state).encode()
        return Tensor._make(np.frombuffer(state, dtype=np.uint8).copy())

    def set_state(self, new_state):
        from ._tensor import Tensor

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


def generator_for(device, generator=None):
    """The generator to draw from for ``device``: the one given, or that device's default."""
    device = backend.as_device(device)
    if generator is not None:
        if generator.device.type != device.type:
            raise RuntimeError(f"Expected a '{device.type}' device type for generator but found '{generator.device.type}'")
        return generator._rng
    if device.type == "cpu":
        return default_generator._rng
    key = device.index or 0
    if key not in _cuda_generators:
        _cuda_generators[key] = Generator(device).manual_seed(default_generator.initial_seed())
    return _cuda_generators[key]._rng


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
def _fill(tensor, sample):
    from ._ops.indexing import check_inplace

    check_inplace(tensor)
    data = tensor._data
    backend.array_module(data).copyto(data, sample, casting="unsafe")
    tensor._version[0] += 1
    return tensor


def _float_dtype(tensor):
    kind = tensor._data.dtype
    return kind if kind.kind == "f" and kind != np.float16 else np.float32 if kind == np.float16 else dtypes.default_float_numpy()


def uniform_(tensor, a=0.0, b=1.0, *, generator=None):
    rng = generator_for(tensor.device, generator)
    return _fill(tensor, rng.uniform(a, b, size=tensor._data.shape).astype(_float_dtype(tensor), copy=False))


def normal_(tensor, mean=0.0, std=1.0, *, generator=None):
    rng = generator_for(tensor.device, generator)
    sample = rng.standard_normal(size=tensor._data.shape, dtype=_float_dtype(tensor))
    return _fill(tensor, sample * std + mean)


def bernoulli_(tensor, p=0.5, *, generator=None):
    rng = generator_for(tensor.device, generator)
    # float32 draws: half the random bits of float64 and ~2x faster (dropout's masks); a
    # probability given as a tensor keeps full precision.
    draws = rng.random(size=tensor._data.shape, dtype=np.float32 if not hasattr(p, "_data") else np.float64)
    return _fill(tensor, draws < (p._data if hasattr(p, "_data") else p))


def exponential_(tensor, lambd=1.0, *, generator=None):
    rng = generator_for(tensor.device, generator)
    return _fill(tensor, rng.exponential(1.0 / lambd, size=tensor._data.shape))


def random_(tensor, low=0, high=None, *, generator=None):
    if high is None:
        low, high = 0, (low if low else 2**24)
    rng = generator_for(tensor.device, generator)
    return _fill(tensor, rng.integers(low, high, size=tensor._data.shape))
