"""``Tensor``: an array (NumPy or CuPy) plus what autograd needs. Every operator is defined here,
in the class, and calls the op that computes it; the ops live in ``tinytorch._ops``."""

import functools
import numbers
import weakref

import numpy as np

from . import _backend as backend, _dtypes as dtypes, _shared_memory
from ._format import format_tensor
from ._hooks import add_hook
from ._layout import strided
from . import _memory_format
from ._memory_format import contiguous_format as _contiguous_format, preserve_format as _preserve_format
from ._numpy_names import numpy_names
from .autograd import _api as _autograd_api
from .autograd.function import grad_accumulator
from .autograd.grad_mode import state as _grad_state
from .autograd.trace import traced_backward


def _binary(method):
    """A binary operator returns NotImplemented for an operand no tensor op takes (a list, None,
    a string), so Python raises its usual TypeError, or compares ``==`` by identity, as PyTorch."""

    @functools.wraps(method)
    def operator(self, other):
        if other.__class__ not in _SCALARS and not isinstance(other, _OPERANDS) and not backend.is_cuda_array(other):
            return NotImplemented
        return method(self, other)

    return operator


class Tensor:
    """A multi-dimensional array with reverse-mode autograd, like ``torch.Tensor``."""

    __slots__ = (
        "_data", "_requires_grad", "_grad", "grad_fn", "_output_nr", "_version", "_base",
        "_accumulator", "_hooks", "_post_accumulate_hooks", "_retains_grad", "_inference", "__weakref__",
    )
    __array_priority__ = 1000  # NumPy defers ``ndarray + Tensor`` to our reflected operators.
    is_sparse = False  # a sparse COO tensor is a subclass (tinytorch/_sparse_coo.py)
    layout = strided
    # The devices and layouts tinytorch never has (PyTorch's flags, read-only here as there).
    is_xpu = is_mps = is_meta = is_mkldnn = is_quantized = is_nested = is_sparse_csr = False
    is_vulkan = is_xla = is_ipu = is_maia = is_mtia = False

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, dtype=None, device=None, requires_grad=False):
        """``Tensor(data)`` copies data as float32; ``Tensor(2, 3)`` is uninitialized, as in PyTorch."""
        numpy_dtype = dtypes.to_numpy_dtype(dtype or dtypes.get_default_dtype())
        if len(args) == 1 and not isinstance(args[0], (int, Size)):
            if not isinstance(args[0], (list, tuple, range, np.ndarray, Tensor)) and not backend.is_cuda_array(args[0]):
                raise TypeError(f"new(): data must be a sequence (got {type(args[0]).__name__})")
            try:
                array = _to_array(args[0])
            except (ValueError, TypeError, OverflowError):
                array = None
            if array is None or array.dtype.kind not in "fiub":
                _from_data.explain(args[0], numpy_dtype)
            data = backend.array_module(backend.as_device(device)).asarray(array, dtype=numpy_dtype)
        else:
            shape = tuple(args[0] if len(args) == 1 and isinstance(args[0], tuple) else args)
            for size in shape:
                if size < 0:
                    raise RuntimeError(f"Trying to create tensor with negative dimension {size}: {list(shape)}")
            data = backend.array_module(backend.as_device(device)).empty(shape, dtype=numpy_dtype)
        _init(self, data, False, None, 0)
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _make(cls, data, requires_grad=False, grad_fn=None, output_nr=0):
        """The fast constructor ops use: wraps an array, no checks."""
        if data.__class__ is not np.ndarray and isinstance(data, np.generic):
            data = np.asarray(data)  # NumPy returns scalars from 0-d ops; a tensor holds an array
        t = object.__new__(cls)
        _init(t, data, requires_grad, grad_fn, output_nr)
        return t

    # -- attributes ------------------------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if value is not True and value is not False:
            raise RuntimeError("requires_grad must be a bool")
        if self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables." if value else
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if value and self._data.dtype.kind not in "fc":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        self._requires_grad = value

    @property
    def grad(self):
        """The gradient backward accumulated into this leaf (None until then)."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            _check_assigned_grad(self, value)
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def data(self):
        """This tensor's values as a new tensor that shares memory and is outside the graph."""
        return self.detach()

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
        if self._requires_grad and value._data.dtype.kind not in "fc":
            raise RuntimeError("data set to a tensor that requires gradients must be floating point or complex dtype")
        self._data = value._data

    @property
    def shape(self):
        return Size(self._data.shape)

    @property
    def dtype(self):
        return dtypes.from_numpy_dtype(self._data.dtype)

    @property
    def device(self):
        return backend.device_of(self._data)

    @property
    def is_cuda(self):
        return backend.is_cuda_array(self._data)

    @property
    def is_cpu(self):
        return not backend.is_cuda_array(self._data)

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def T(self):
        if self._data.ndim > 2:
            raise RuntimeError("The use of `x.T` on tensors of dimension other than 2 to reverse their shape is not supported; use x.mT or x.permute")
        return self.permute(*reversed(range(self._data.ndim)))

    @property
    def mT(self):
        if self._data.ndim < 2:
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {self._data.ndim}-D tensor.")
        return self.transpose(-2, -1)

    @property
    def H(self):
        return self.T

    @property
    def mH(self):
        """The conjugate transpose of the last two dims: ``mT``, as tinytorch has no complex dtypes."""
        if self._data.ndim < 2:
            raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. Got {self._data.ndim}-D tensor.")
        return self.transpose(-2, -1)

    def adjoint(self):
        return _ops.adjoint(self)

    @property
    def output_nr(self):
        """Which output of its ``grad_fn`` this tensor is (0 for a leaf)."""
        return self._output_nr

    @property
    def nbytes(self):
        return self._data.nbytes

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def _version_number(self):
        return self._version[0]

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def storage_offset(self):
        """The element offset of this tensor's first element into its base's memory (0 unless a view)."""
        return 0 if self._base is None else backend.storage_offset(self._data, self._base._data)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        if not self._data.ndim:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        return self._data.shape[_ops.normalize_dim(dim, self._data.ndim)]

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    def stride(self, dim=None):
        """Steps in elements between neighbours along each dim. An empty tensor whose array has no
        strides (all 0: NumPy 2 gives new empty arrays no strides) gets the row-major strides PyTorch
        gives it, with size-0 dims counted as 1 ((0, 3) -> (3, 1))."""
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        if not self._data.size and not any(strides):
            strides = _memory_format.contiguous_strides(self._data.shape)
        return strides if dim is None else strides[_ops.normalize_dim(dim, self._data.ndim)]

    def is_contiguous(self, *, memory_format=_contiguous_format):
        """Whether the elements are dense in ``memory_format``'s order (row-major by default)."""
        if memory_format is _contiguous_format:
            return bool(self._data.flags.c_contiguous)
        return _memory_format.is_contiguous(self._data, _memory_format.check_type("is_contiguous", memory_format))

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def is_complex(self):
        return False  # tinytorch has no complex dtypes

    def is_signed(self):
        return self._data.dtype.kind in "fi"

    def is_conj(self):
        return False

    def is_neg(self):
        return False

    def resolve_conj(self):
        return self  # never a lazy conjugate (no complex dtypes)

    def resolve_neg(self):
        return self  # never a lazy negation

    def is_inference(self):
        """True for a tensor made under ``inference_mode``, or a view of one."""
        return (self if self._base is None else self._base)._inference

    def is_pinned(self, device=None):
        return False  # pin_memory is accepted and ignored (docs/differences.md)

    def is_same_size(self, other):
        return self._data.shape == other._data.shape

    def is_nonzero(self):
        """The truth of a one-element tensor (PyTorch's errors for other sizes)."""
        if self._data.size == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        if self._data.size > 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def get_device(self):
        return -1 if not self.is_cuda else self._data.device.id

    def data_ptr(self):
        return self._data.__array_interface__["data"][0] if not self.is_cuda else self._data.data.ptr

    # -- conversion ------------------------------------------------------------------------------
    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return backend.to_numpy(self._data).item()

    def tolist(self):
        return backend.to_numpy(self._data).tolist()

    def numpy(self, *, force=False):
        """The NumPy array behind this CPU tensor (shared memory)."""
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if self.is_cuda:
            if not force:
                raise TypeError(
                    f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first."
                )
            return backend.to_numpy(self._data)
        return self._data

    def __array__(self, dtype=None, copy=None):
        array = backend.to_numpy(self._data)
        return array if dtype is None else array.astype(dtype, copy=False)

    def __dlpack__(self, *, stream=-1, max_version=None, dl_device=None, copy=None):
        """A DLPack capsule sharing this tensor's memory (what ``from_dlpack`` of NumPy, PyTorch,
        CuPy or JAX calls); the array library (NumPy or CuPy) writes it."""
        if self._requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        if self.is_sparse:
            raise BufferError("Can't export tensors with layout other than torch.strided")
        options = {"max_version": max_version, "dl_device": dl_device, "copy": copy}
        if self.is_cuda and stream not in (None, -1):  # -1: the consumer asks for no synchronization
            options["stream"] = stream
        return self._data.__dlpack__(**{key: value for key, value in options.items() if value is not None})

    def __dlpack_device__(self):
        """(DLPack device type, device index): (1, 0) for the CPU, (2, i) for cuda:i."""
        return self._data.__dlpack_device__()

    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False, memory_format=None):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(other_tensor)``; differentiable.
        ``memory_format`` lays the result out in that order (``self`` when nothing changes and the
        strides already suggest that format, as PyTorch)."""
        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            elif isinstance(arg, dtypes.dtype):
                dtype = arg
            elif arg is not None:
                device = arg
        if memory_format is not None and memory_format is not _preserve_format:
            _memory_format.check_type("to", memory_format)
            _memory_format.check_rank(memory_format, self._data.ndim)
        converted = _ops.to_copy(self, dtype=dtype, device=device, copy=copy)
        if memory_format is None or memory_format is _preserve_format:
            return converted
        if converted is self and _memory_format.suggest(self._data) is memory_format:
            return self
        if converted is not self and _memory_format.is_contiguous(converted._data, memory_format):
            return converted
        return converted.clone(memory_format=memory_format)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False):
        return self.to(backend.device("cuda", device) if isinstance(device, int) else (device or "cuda"))

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def half(self):
        return self.to(dtypes.float16)

    def long(self):
        return self.to(dtypes.int64)

    def int(self):
        return self.to(dtypes.int32)

    def short(self):
        return self.to(dtypes.int16)

    def byte(self):
        return self.to(dtypes.uint8)

    def char(self):
        return self.to(dtypes.int8)

    def bool(self):
        return self.to(dtypes.bool)

    def type(self, dtype=None, non_blocking=False):
        """The type's name (``"tinytorch.FloatTensor"``) without an argument; else this tensor as
        ``dtype``: a dtype, a legacy type (``tinytorch.LongTensor``) or its name (``"torch.LongTensor"``,
        ``"tinytorch.cuda.FloatTensor"``). Returns ``self`` when it already has that type."""
        if dtype is None:
            return f"tinytorch.{'cuda.' if self.is_cuda else ''}{dtypes.scalar_type_name(self._data.dtype)}Tensor"
        if isinstance(dtype, dtypes.dtype):
            return self.to(dtype)
        dtype, cuda = _tensor_types.parse(dtype)
        if self.is_cuda != cuda:
            return self.to(dtype=dtype, device="cuda" if cuda else "cpu")
        return self.to(dtype)

    def type_as(self, other):
        return self.to(other.dtype)

    def clone(self, *, memory_format=_preserve_format):
        """A copy, laid out in ``memory_format`` (by default in this tensor's own order, as PyTorch)."""
        if memory_format is _contiguous_format:
            return _ops.clone(self)
        order = _memory_format.order_for(_memory_format.check_type("clone", memory_format), self._data)
        copy = _memory_format.copy_in_order(self, order)
        if not self._data.size and memory_format is _preserve_format:
            # An empty tensor counts as dense: PyTorch's copy keeps its strides exactly.
            copy._data = _memory_format.with_strides(copy._data, self.stride())
        return copy

    def share_memory_(self):
        """Move the data to shared memory, which forked and spawned processes map too (a no-op
        for CUDA tensors and tensors already shared)."""
        if not self.is_cuda and not _shared_memory.is_shared(self._data):
            _shared_memory.register_reductions()
            self._data = _shared_memory.share(self._data)
        return self

    def is_shared(self):
        """Whether the data is in shared memory (always True for CUDA tensors, as PyTorch)."""
        return self.is_cuda or _shared_memory.is_shared(self._data)

    def to_dense(self, dtype=None, *, masked_grad=None):
        return self if dtype is None else self.to(dtype)

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        """The non-zero entries as a sparse COO tensor (the first ``sparse_dim`` dims sparse)."""
        return _sparse_coo.to_sparse(self, sparse_dim, layout)

    def contiguous(self, *, memory_format=_contiguous_format):
        """This tensor when it is dense in ``memory_format``'s order (row-major by default), else a copy that is."""
        if memory_format is _contiguous_format:
            return self if self._data.flags.c_contiguous else _ops.clone(self)
        if _memory_format.is_contiguous(self._data, _memory_format.check_type("contiguous", memory_format)):
            return self
        if memory_format is _preserve_format:
            raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
        return self.clone(memory_format=memory_format)

    def detach(self):
        """A tensor sharing this one's memory and version counter, outside the graph."""
        out = Tensor._make(self._data)
        out._version = self._version  # in-place changes through it still reach saved-tensor checks
        return out

    def detach_(self):
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    def requires_grad_(self, requires_grad=True):
        if requires_grad is not True and requires_grad is not False:
            raise TypeError(f"requires_grad_(): argument 'requires_grad' (position 1) must be bool, not {type(requires_grad).__name__}")
        self.requires_grad = requires_grad
        return self

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        return _creation.tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return _creation.zeros(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return _creation.ones(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        return _creation.full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return _creation.empty(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_empty_strided(self, size, stride, dtype=None, device=None, requires_grad=False):
        return _creation_extra.empty_strided(
            size, stride, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad
        )

    # -- autograd --------------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None, trace=False):
        """Accumulate d(self)/d(leaf) into each leaf's ``.grad`` (the chain rule, in reverse).

        ``trace=True`` (or a file) prints each node as it runs (``tinytorch.autograd.trace``).
        """
        if trace:
            return traced_backward(self, gradient, retain_graph, create_graph, inputs, None if trace is True else trace)
        _autograd_api.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if self.grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self._retains_grad:
            return
        self._retains_grad = True
        ref, nr = weakref.ref(self), self._output_nr

        def store(grads):
            tensor = ref()
            if tensor is not None and grads[nr] is not None:
                grad = grads[nr].detach() if not _grad_state.enabled else grads[nr]
                tensor.grad = grad.clone() if tensor.grad is None else tensor.grad + grad

        node = self.grad_fn
        if node._retains_grad_hooks is None:
            node._retains_grad_hooks = {}
        node._retains_grad_hooks[nr] = store

    @property
    def retains_grad(self):
        return self._retains_grad

    def register_hook(self, hook):
        """hook(grad) -> new grad or None, called when this tensor's gradient is computed."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = {}
            grad_accumulator(self)
            return add_hook(self._hooks, hook)
        nr = self._output_nr

        def on_output(grads):
            if grads[nr] is None:
                return None
            result = hook(grads[nr])
            if result is None:
                return None
            grads = list(grads)
            grads[nr] = result
            return grads

        node = self.grad_fn
        if node._tensor_pre_hooks is None:
            node._tensor_pre_hooks = {}
        return add_hook(node._tensor_pre_hooks, on_output)

    def register_post_accumulate_grad_hook(self, hook):
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = {}
        return add_hook(self._post_accumulate_hooks, hook)

    # -- Python protocol -------------------------------------------------------------------------
    def __repr__(self):
        return format_tensor(self)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self):
        return complex(self.item())

    def __hash__(self):
        return id(self)

    def __contains__(self, element):
        return bool((self == element).any())

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, protocol):
        # Pickling (used by DataLoader workers) sends the array; the graph never travels.
        return (_rebuild, (backend.to_numpy(self._data), self._requires_grad, str(self.device)))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at the moment."
            )
        # order='K': the copy keeps the strides' order (a channels_last tensor stays channels_last,
        # as PyTorch's deepcopy, which copies the storage and keeps the strides).
        out = type(self)._make(self._data.copy(order="K"), self._requires_grad)
        if self.grad is not None:
            out.grad = self.grad.clone()
        memo[id(self)] = out
        return out

    # -- arithmetic ------------------------------------------------------------------------------
    @_binary
    def __add__(self, other):
        return _ops.add(self, other)

    @_binary
    def __radd__(self, other):
        return _ops.add(other, self)

    @_binary
    def __sub__(self, other):
        return _ops.sub(self, other)

    @_binary
    def __rsub__(self, other):
        return _ops.sub(other, self)

    @_binary
    def __mul__(self, other):
        return _ops.mul(self, other)

    @_binary
    def __rmul__(self, other):
        return _ops.mul(other, self)

    @_binary
    def __truediv__(self, other):
        return _ops.div(self, other)

    @_binary
    def __rtruediv__(self, other):
        return _ops.div(other, self)

    @_binary
    def __floordiv__(self, other):
        return _ops.floor_divide(self, other)

    @_binary
    def __rfloordiv__(self, other):
        return _ops.floor_divide(other, self)

    @_binary
    def __mod__(self, other):
        return _ops.remainder(self, other)

    @_binary
    def __rmod__(self, other):
        return _ops.remainder(other, self)

    def remainder(self, other):
        """Python's modulus: the result takes the divisor's sign (``fmod`` takes the dividend's)."""
        return _ops.remainder(self, other)

    def fmod(self, other):
        """C's fmod: the result takes the dividend's sign."""
        return _ops.fmod(self, other)

    def floor_divide(self, other):
        return _ops.floor_divide(self, other)

    @_binary
    def __pow__(self, exponent):
        return _ops.pow(self, exponent)

    @_binary
    def __rpow__(self, base):
        return _ops.pow(base, self)

    @_binary
    def __matmul__(self, other):
        return _ops.matmul(self, other)

    @_binary
    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __neg__(self):
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __invert__(self):
        return _ops.bitwise_not(self)

    @_binary
    def __and__(self, other):
        return _ops.bitwise_and(self, other)

    @_binary
    def __or__(self, other):
        return _ops.bitwise_or(self, other)

    @_binary
    def __xor__(self, other):
        return _ops.bitwise_xor(self, other)

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    @_binary
    def __lshift__(self, other):
        return _ops.bitwise_left_shift(self, other)

    @_binary
    def __rlshift__(self, other):
        return _ops.bitwise_left_shift(other, self)

    @_binary
    def __ilshift__(self, other):
        return _ops.inplace(self, _ops.bitwise_left_shift, other)

    @_binary
    def __rshift__(self, other):
        return _ops.bitwise_right_shift(self, other)

    @_binary
    def __rrshift__(self, other):
        return _ops.bitwise_right_shift(other, self)

    @_binary
    def __irshift__(self, other):
        return _ops.inplace(self, _ops.bitwise_right_shift, other)

    @_binary
    def __eq__(self, other):
        return _ops.eq(self, other)

    @_binary
    def __ne__(self, other):
        return _ops.ne(self, other)

    @_binary
    def __lt__(self, other):
        return _ops.lt(self, other)

    @_binary
    def __le__(self, other):
        return _ops.le(self, other)

    @_binary
    def __gt__(self, other):
        return _ops.gt(self, other)

    @_binary
    def __ge__(self, other):
        return _ops.ge(self, other)

    @_binary
    def __iadd__(self, other):
        return self.add_(other)

    @_binary
    def __isub__(self, other):
        return self.sub_(other)

    @_binary
    def __imul__(self, other):
        return self.mul_(other)

    @_binary
    def __itruediv__(self, other):
        return self.div_(other)

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    def __setitem__(self, index, value):
        _ops.setitem(self, index, value)

    # -- named ops (methods call the functions of tinytorch._ops) ---------------------------------
    def add(self, other, *, alpha=1):
        return _ops.add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return _ops.sub(self, other, alpha=alpha)

    subtract = sub

    def mul(self, other):
        return _ops.mul(self, other)

    multiply = mul

    def div(self, other, *, rounding_mode=None):
        return _ops.div(self, other, rounding_mode=rounding_mode)

    divide = true_divide = div

    def pow(self, exponent):
        return _ops.pow(self, exponent)

    def matmul(self, other):
        return _ops.matmul(self, other)

    def mm(self, other):
        return _ops.mm(self, other)

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return _ops.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return _ops.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def mv(self, vec):
        return _ops.mv(self, vec)

    def inner(self, other):
        return _ops.inner(self, other)

    def vdot(self, other):
        return _ops.vdot(self, other)

    def ger(self, vec2):
        return _ops.ger(self, vec2)

    def outer(self, vec2):
        return _ops.outer(self, vec2)

    def addmv(self, mat, vec, *, beta=1, alpha=1):
        return _ops.addmv(self, mat, vec, beta=beta, alpha=alpha)

    def addmv_(self, mat, vec, *, beta=1, alpha=1):
        return _ops.inplace(self, _ops.addmv, mat, vec, beta=beta, alpha=alpha)

    def addr(self, vec1, vec2, *, beta=1, alpha=1):
        return _ops.addr(self, vec1, vec2, beta=beta, alpha=alpha)

    def addr_(self, vec1, vec2, *, beta=1, alpha=1):
        return _ops.inplace(self, _ops.addr, vec1, vec2, beta=beta, alpha=alpha)

    def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return _ops.addbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def addbmm_(self, batch1, batch2, *, beta=1, alpha=1):
        return _ops.inplace(self, _ops.addbmm, batch1, batch2, beta=beta, alpha=alpha)

    def addmm_(self, mat1, mat2, *, beta=1, alpha=1):
        return _ops.inplace(self, _ops.addmm, mat1, mat2, beta=beta, alpha=alpha)

    def baddbmm_(self, batch1, batch2, *, beta=1, alpha=1):
        return _ops.inplace(self, _ops.baddbmm, batch1, batch2, beta=beta, alpha=alpha)

    def bmm(self, other):
        return _ops.bmm(self, other)

    def dot(self, other):
        return _ops.dot(self, other)

    def neg(self):
        return _ops.neg(self)

    negative = neg

    def abs(self):
        return _ops.abs(self)

    absolute = abs

    def exp(self):
        return _ops.exp(self)

    def log(self):
        return _ops.log(self)

    def log1p(self):
        return _ops.log1p(self)

    def log2(self):
        return _ops.log2(self)

    def log10(self):
        return _ops.log10(self)

    def expm1(self):
        return _ops.expm1(self)

    def sqrt(self):
        return _ops.sqrt(self)

    def rsqrt(self):
        return _ops.rsqrt(self)

    def square(self):
        return _ops.square(self)

    def sin(self):
        return _ops.sin(self)

    def cos(self):
        return _ops.cos(self)

    def tan(self):
        return _ops.tan(self)

    def tanh(self):
        return _ops.tanh(self)

    def sinh(self):
        return _ops.sinh(self)

    def cosh(self):
        return _ops.cosh(self)

    def asin(self):
        return _ops.asin(self)

    def acos(self):
        return _ops.acos(self)

    def atan(self):
        return _ops.atan(self)

    def asinh(self):
        return _ops.asinh(self)

    def acosh(self):
        return _ops.acosh(self)

    def atanh(self):
        return _ops.atanh(self)

    arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh

    def sigmoid(self):
        return _ops.sigmoid(self)

    def relu(self):
        return _ops.relu(self)

    def hardshrink(self, lambd=0.5):
        return _ops.hardshrink(self, lambd)

    def prelu(self, weight):
        return _ops.prelu(self, weight)

    def reciprocal(self):
        return _ops.reciprocal(self)

    def sign(self):
        return _ops.sign(self)

    def floor(self):
        return _ops.floor(self)

    def ceil(self):
        return _ops.ceil(self)

    def round(self, *, decimals=0):
        return _ops.round(self, decimals=decimals)

    def trunc(self):
        return _ops.trunc(self)

    def clamp(self, min=None, max=None):
        return _ops.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return _ops.maximum(self, other)

    def minimum(self, other):
        return _ops.minimum(self, other)

    def where(self, condition, other):
        return _ops.where(condition, self, other)

    def lerp(self, end, weight):
        return _ops.lerp(self, end, weight)

    def erf(self):
        return _ops.nn_ops.erf(self)

    def erfinv(self):
        return _ops.erfinv(self)

    def lgamma(self):
        return _ops.lgamma(self)

    def digamma(self):
        return _ops.digamma(self)

    def polygamma(self, n):
        return _ops.polygamma(n, self)

    def xlogy(self, other):
        return _ops.xlogy(self, other)

    @numpy_names
    def sum(self, dim=None, keepdim=False, *, dtype=None):
        return _ops.sum(self, dim, keepdim, dtype=dtype)

    @numpy_names
    def mean(self, dim=None, keepdim=False, *, dtype=None):
        return _ops.mean(self, dim, keepdim, dtype=dtype)

    @numpy_names
    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return _ops.var(self, dim, unbiased, keepdim, correction=correction)

    @numpy_names
    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return _ops.std(self, dim, unbiased, keepdim, correction=correction)

    @numpy_names
    def prod(self, dim=None, keepdim=False, *, dtype=None):
        return _ops.prod(self, dim, keepdim, dtype=dtype)

    @numpy_names
    def max(self, dim=None, keepdim=False):
        return _ops.max(self, dim, keepdim)

    @numpy_names
    def min(self, dim=None, keepdim=False):
        return _ops.min(self, dim, keepdim)

    @numpy_names
    def amax(self, dim=(), keepdim=False):
        return _ops.amax(self, dim, keepdim)

    @numpy_names
    def amin(self, dim=(), keepdim=False):
        return _ops.amin(self, dim, keepdim)

    @numpy_names
    def argmax(self, dim=None, keepdim=False):
        return _ops.argmax(self, dim, keepdim)

    @numpy_names
    def argmin(self, dim=None, keepdim=False):
        return _ops.argmin(self, dim, keepdim)

    @numpy_names
    def logsumexp(self, dim, keepdim=False):
        return _ops.logsumexp(self, dim, keepdim)

    @numpy_names
    def softmax(self, dim, dtype=None):
        return _ops.softmax(self, dim, dtype=dtype)

    @numpy_names
    def log_softmax(self, dim, dtype=None):
        return _ops.log_softmax(self, dim, dtype=dtype)

    @numpy_names
    def cumsum(self, dim, *, dtype=None):
        return _ops.cumsum(self, dim, dtype=dtype)

    @numpy_names
    def cumprod(self, dim, *, dtype=None):
        return _ops.cumprod(self, dim, dtype=dtype)

    def i0(self):
        return _ops.i0(self)

    def i0_(self):
        return _ops.inplace(self, _ops.i0)

    def sinc(self):
        return _ops.sinc(self)

    def sinc_(self):
        return _ops.inplace(self, _ops.sinc)

    def igamma(self, other):
        return _ops.igamma(self, other)

    def igamma_(self, other):
        return _ops.inplace(self, _ops.igamma, other)

    def igammac(self, other):
        return _ops.igammac(self, other)

    def igammac_(self, other):
        return _ops.inplace(self, _ops.igammac, other)

    def mvlgamma(self, p):
        return _ops.mvlgamma(self, p)

    def mvlgamma_(self, p):
        return _ops.inplace(self, _ops.mvlgamma, p)

    def cov(self, *, correction=1, fweights=None, aweights=None):
        return _ops.cov(self, correction=correction, fweights=fweights, aweights=aweights)

    def corrcoef(self):
        return _ops.corrcoef(self)

    def logcumsumexp(self, dim):
        return _ops.logcumsumexp(self, dim)

    def renorm(self, p, dim, maxnorm):
        return _ops.renorm(self, p, dim, maxnorm)

    def renorm_(self, p, dim, maxnorm):
        return _ops.inplace(self, _ops.renorm, p, dim, maxnorm)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        return _ops.norm(self, p, dim, keepdim, dtype=dtype)

    def dist(self, other, p=2):
        return _ops.dist(self, other, p)

    @numpy_names
    def all(self, dim=None, keepdim=False):
        return _ops.all(self, dim, keepdim)

    @numpy_names
    def any(self, dim=None, keepdim=False):
        return _ops.any(self, dim, keepdim)

    @numpy_names
    def sort(self, dim=-1, descending=False, stable=False):
        return _ops.sort(self, dim, descending, stable=stable)

    @numpy_names
    def argsort(self, dim=-1, descending=False, stable=False):
        return _ops.argsort(self, dim, descending, stable=stable)

    @numpy_names
    def topk(self, k, dim=-1, largest=True, sorted=True):
        return _ops.topk(self, k, dim, largest, sorted)

    def aminmax(self, *, dim=None, keepdim=False):
        return _ops.aminmax(self, dim=dim, keepdim=keepdim)

    def arctan2(self, other):
        return _ops.arctan2(self, other)

    def atan2(self, other):
        return _ops.atan2(self, other)

    def copysign(self, other):
        return _ops.copysign(self, other)

    def cummax(self, dim):
        return _ops.cummax(self, dim)

    def cummin(self, dim):
        return _ops.cummin(self, dim)

    def deg2rad(self):
        return _ops.deg2rad(self)

    def erfc(self):
        return _ops.erfc(self)

    def exp2(self):
        return _ops.exp2(self)

    def float_power(self, exponent):
        return _ops.float_power(self, exponent)

    def fmax(self, other):
        return _ops.fmax(self, other)

    def fmin(self, other):
        return _ops.fmin(self, other)

    def frac(self):
        return _ops.frac(self)

    def gcd(self, other):
        return _ops.gcd(self, other)

    def hypot(self, other):
        return _ops.hypot(self, other)

    def isneginf(self):
        return _ops.isneginf(self)

    def isposinf(self):
        return _ops.isposinf(self)

    def isreal(self):
        return _ops.isreal(self)

    def lcm(self, other):
        return _ops.lcm(self, other)

    def logaddexp(self, other):
        return _ops.logaddexp(self, other)

    def logaddexp2(self, other):
        return _ops.logaddexp2(self, other)

    def logit(self, eps=None):
        return _ops.logit(self, eps)

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        return _ops.nan_to_num(self, nan, posinf, neginf)

    def nanmean(self, dim=None, keepdim=False, *, dtype=None):
        return _ops.nanmean(self, dim, keepdim, dtype=dtype)

    def nansum(self, dim=None, keepdim=False, *, dtype=None):
        return _ops.nansum(self, dim, keepdim, dtype=dtype)

    def rad2deg(self):
        return _ops.rad2deg(self)

    def sgn(self):
        return _ops.sgn(self)

    def signbit(self):
        return _ops.signbit(self)
    def arctan2_(self, other):
        return _ops.inplace(self, _ops.arctan2, other)

    def atan2_(self, other):
        return _ops.inplace(self, _ops.atan2, other)

    def copysign_(self, other):
        return _ops.inplace(self, _ops.copysign, other)

    def deg2rad_(self):
        return _ops.inplace(self, _ops.deg2rad)

    def erfc_(self):
        return _ops.inplace(self, _ops.erfc)

    def exp2_(self):
        return _ops.inplace(self, _ops.exp2)

    def float_power_(self, exponent):
        if self._data.dtype != np.float64:
            raise RuntimeError(
                f"the base given to float_power_ has dtype {dtypes.scalar_type_name(self._data.dtype)} but the operation's result requires dtype Double"
            )
        return _ops.inplace(self, _ops.float_power, exponent)

    def frac_(self):
        return _ops.inplace(self, _ops.frac)

    def gcd_(self, other):
        return _ops.inplace(self, _ops.gcd, other)

    def hypot_(self, other):
        return _ops.inplace(self, _ops.hypot, other)

    def lcm_(self, other):
        return _ops.inplace(self, _ops.lcm, other)

    def logit_(self, eps=None):
        return _ops.inplace(self, _ops.logit, eps)

    def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
        return _ops.inplace(self, _ops.nan_to_num, nan, posinf, neginf)

    def rad2deg_(self):
        return _ops.inplace(self, _ops.rad2deg)

    def sgn_(self):
        return _ops.inplace(self, _ops.sgn)

    def bitwise_left_shift(self, other):
        return _ops.bitwise_left_shift(self, other)

    def bitwise_left_shift_(self, other):
        return _ops.inplace(self, _ops.bitwise_left_shift, other)

    def bitwise_right_shift(self, other):
        return _ops.bitwise_right_shift(self, other)

    def bitwise_right_shift_(self, other):
        return _ops.inplace(self, _ops.bitwise_right_shift, other)

    def fix(self):
        return _ops.fix(self)

    def fix_(self):
        return _ops.fix_(self)

    def frexp(self):
        return _ops.frexp(self)

    def heaviside(self, values):
        return _ops.heaviside(self, values)

    def heaviside_(self, values):
        return _ops.inplace(self, _ops.heaviside, values)

    def ldexp(self, other):
        return _ops.ldexp(self, other)

    def ldexp_(self, other):
        return _ops.ldexp_(self, other)

    def nextafter(self, other):
        return _ops.nextafter(self, other)

    def nextafter_(self, other):
        return _ops.inplace(self, _ops.nextafter, other)

    def positive(self):
        return _ops.positive(self)

    def tile(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = dims[0]
        elif not dims:
            raise TypeError('tile() missing 1 required positional arguments: "dims"')
        return _ops.tile(self, dims)

    def kron(self, other):
        return _ops.kron(self, other)

    def diff(self, n=1, dim=-1, prepend=None, append=None):
        return _ops.diff(self, n, dim, prepend, append)

    def trace(self):
        return _ops.trace(self)

    def take_along_dim(self, indices, dim=None):
        return _ops.take_along_dim(self, indices, dim)

    def flipud(self):
        return _ops.flipud(self)

    def fliplr(self):
        return _ops.fliplr(self)

    def rot90(self, k=1, dims=(0, 1)):
        return _ops.rot90(self, k, dims)

    def diag_embed(self, offset=0, dim1=-2, dim2=-1):
        return _ops.diag_embed(self, offset, dim1, dim2)

    def diagflat(self, offset=0):
        return _ops.diagflat(self, offset)

    @numpy_names
    def kthvalue(self, k, dim=-1, keepdim=False):
        return _ops.kthvalue(self, k, dim, keepdim)

    @numpy_names
    def mode(self, dim=-1, keepdim=False):
        return _ops.mode(self, dim, keepdim)

    @numpy_names
    def median(self, dim=None, keepdim=False):
        return _ops.median(self, dim, keepdim)

    @numpy_names
    def nanmedian(self, dim=None, keepdim=False):
        return _ops.nanmedian(self, dim, keepdim)

    @numpy_names
    def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return _ops.quantile(self, q, dim, keepdim, interpolation=interpolation)

    @numpy_names
    def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return _ops.nanquantile(self, q, dim, keepdim, interpolation=interpolation)

    def eq(self, other):
        return _ops.eq(self, other)

    def ne(self, other):
        return _ops.ne(self, other)

    def lt(self, other):
        return _ops.lt(self, other)

    def le(self, other):
        return _ops.le(self, other)

    def gt(self, other):
        return _ops.gt(self, other)

    def ge(self, other):
        return _ops.ge(self, other)

    greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

    def equal(self, other):
        return _ops.equal(self, other)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _ops.allclose(self, other, rtol, atol, equal_nan)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _ops.isclose(self, other, rtol, atol, equal_nan)

    def logical_and(self, other):
        return _ops.logical_and(self, other)

    def logical_or(self, other):
        return _ops.logical_or(self, other)

    def logical_xor(self, other):
        return _ops.logical_xor(self, other)

    def logical_not(self):
        return _ops.logical_not(self)

    def isnan(self):
        return _ops.isnan(self)

    def isinf(self):
        return _ops.isinf(self)

    def isfinite(self):
        return _ops.isfinite(self)

    def nonzero(self, *, as_tuple=False):
        return _ops.nonzero(self, as_tuple=as_tuple)

    @numpy_names
    def count_nonzero(self, dim=None):
        return _ops.count_nonzero(self, dim)

    # -- shape and movement ----------------------------------------------------------------------
    def reshape(self, *shape):
        return _ops.reshape(self, *shape)

    def view(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], dtypes.dtype):
            return _ops.view_dtype(self, shape[0])
        return _ops.view(self, *shape)

    def view_as(self, other):
        return _ops.view(self, other.shape)

    def reshape_as(self, other):
        return _ops.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return _ops.flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes):
        return _ops.unflatten(self, dim, sizes)

    def ravel(self):
        return _ops.reshape(self, -1)

    @numpy_names
    def squeeze(self, dim=None):
        return _ops.squeeze(self, dim)

    @numpy_names
    def unsqueeze(self, dim):
        return _ops.unsqueeze(self, dim)

    def transpose(self, dim0, dim1):
        return _ops.transpose(self, dim0, dim1)

    swapaxes = swapdims = transpose

    def t(self):
        return _ops.t(self)

    # In place, the view ops change this tensor's shape (and, under autograd, its grad_fn).
    @numpy_names
    def squeeze_(self, dim=None):
        return _views_extra.squeeze_(self, dim)

    @numpy_names
    def unsqueeze_(self, dim):
        return _views_extra.unsqueeze_(self, dim)

    def transpose_(self, dim0, dim1):
        return _views_extra.transpose_(self, dim0, dim1)

    swapaxes_ = swapdims_ = transpose_

    def t_(self):
        return _views_extra.t_(self)

    def resize_(self, *sizes, memory_format=None):
        return _views_extra.resize_(self, *sizes, memory_format=memory_format)

    def resize_as_(self, the_template, memory_format=None):
        return _views_extra.resize_as_(self, the_template, memory_format=memory_format)

    def resize(self, *sizes):
        return _legacy_methods.resize(self, *sizes)

    def resize_as(self, tensor):
        return _legacy_methods.resize_as(self, tensor)

    def new(self, *args, **kwargs):
        """The legacy constructor (tinytorch/_legacy_methods.py): an empty, sized or data tensor of self's dtype."""
        return _legacy_methods.new(self, *args, **kwargs)

    def as_strided(self, size, stride, storage_offset=None):
        """A view of this tensor's storage with the given sizes, strides and offset (in elements)."""
        return _strided.as_strided_method(self, size, stride, storage_offset)

    def as_strided_(self, size, stride, storage_offset=None):
        return _strided.as_strided_method(self, size, stride, storage_offset, in_place=True)

    def as_strided_scatter(self, src, size, stride, storage_offset=None):
        return _strided.as_strided_scatter(self, src, size, stride, storage_offset)

    def narrow_copy(self, dim, start, length):
        return _ops.narrow_copy(self, dim, start, length)

    def nonzero_static(self, *, size, fill_value=-1):
        return _ops.nonzero_static(self, size=size, fill_value=fill_value)

    def lu(self, pivot=True, get_infos=False):
        """Deprecated: ``linalg.lu_factor_ex``'s (LU, pivots[, infos]); never raises for a singular matrix."""
        return _legacy_methods.lu(self, pivot, get_infos)

    def permute(self, *dims):
        return _ops.permute(self, *dims)

    def movedim(self, source, destination):
        return _ops.movedim(self, source, destination)

    moveaxis = movedim

    def expand(self, *sizes):
        return _ops.expand(self, *sizes)

    def expand_as(self, other):
        return _ops.expand(self, other.shape)

    def broadcast_to(self, size):
        return _ops.broadcast_to(self, size)

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        return _ops.repeat_interleave(self, repeats, dim, output_size=output_size)

    def repeat(self, *sizes):
        return _ops.repeat(self, *sizes)

    def sum_to_size(self, *size):
        return _ops.sum_to_size(self, *size)

    def split(self, split_size, dim=0):
        return _ops.split(self, split_size, dim)

    def chunk(self, chunks, dim=0):
        return _ops.chunk(self, chunks, dim)

    def split_with_sizes(self, split_sizes, dim=0):
        return _ops.split_with_sizes(self, split_sizes, dim)

    def unsafe_split(self, split_size, dim=0):
        return _ops.unsafe_split(self, split_size, dim)

    def unsafe_chunk(self, chunks, dim=0):
        return _ops.unsafe_chunk(self, chunks, dim)

    def unsafe_split_with_sizes(self, split_sizes, dim=0):
        return _ops.unsafe_split_with_sizes(self, split_sizes, dim)

    def unbind(self, dim=0):
        return _ops.unbind(self, dim)

    def narrow(self, dim, start, length):
        return _ops.narrow(self, dim, start, length)

    def select(self, dim, index):
        return _ops.select(self, dim, index)

    def tensor_split(self, indices_or_sections=None, dim=0, *, sections=None, indices=None, tensor_indices_or_sections=None):
        return _ops.tensor_split(self, indices_or_sections, dim, sections=sections, indices=indices,
                                 tensor_indices_or_sections=tensor_indices_or_sections)

    def hsplit(self, *indices_or_sections, sections=None, indices=None):
        """``x.hsplit(2)``, ``x.hsplit([1, 2])`` or ``x.hsplit(1, 2)`` (indices as separate ints)."""
        return _ops.hsplit(self, _split_argument(indices_or_sections), sections=sections, indices=indices)

    def vsplit(self, *indices_or_sections, sections=None, indices=None):
        return _ops.vsplit(self, _split_argument(indices_or_sections), sections=sections, indices=indices)

    def dsplit(self, *indices_or_sections, sections=None, indices=None):
        return _ops.dsplit(self, _split_argument(indices_or_sections), sections=sections, indices=indices)

    def flip(self, dims):
        return _ops.flip(self, dims)

    def roll(self, shifts, dims=None):
        return _ops.roll(self, shifts, dims)

    def tril(self, diagonal=0):
        return _ops.tril(self, diagonal)

    def triu(self, diagonal=0):
        return _ops.triu(self, diagonal)

    def diag(self, diagonal=0):
        return _ops.diag(self, diagonal)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return _ops.unique(self, sorted, return_inverse, return_counts, dim)

    def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
        return _ops.unique_consecutive(self, return_inverse, return_counts, dim)

    def bincount(self, weights=None, minlength=0):
        return _ops.bincount(self, weights, minlength)

    def histc(self, bins=100, min=0, max=0):
        return _ops.histc(self, bins, min, max)

    def histogram(self, bins, *, range=None, weight=None, density=False):
        return _ops.histogram(self, bins, range=range, weight=weight, density=density)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        return _ops.diagonal(self, offset, dim1, dim2)

    @numpy_names
    def index_select(self, dim, index):
        return _ops.index_select(self, dim, index)

    @numpy_names
    def gather(self, dim, index):
        return _ops.gather(self, dim, index)

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return _ops.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_add(self, dim, index, src):
        return _ops.scatter_add(self, dim, index, src)

    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
        return _ops.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)

    def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
        return _ops.inplace(self, _ops.scatter_reduce, dim, index, src, reduce, include_self=include_self)

    def index_reduce(self, dim, index, source, reduce, *, include_self=True):
        return _ops.index_reduce(self, dim, index, source, reduce, include_self=include_self)

    def index_reduce_(self, dim, index, source, reduce, *, include_self=True):
        return _ops.inplace(self, _ops.index_reduce, dim, index, source, reduce, include_self=include_self)

    def unfold(self, dimension, size, step):
        return _ops.unfold(self, dimension, size, step)

    def take(self, index):
        return _ops.take(self, index)

    def put(self, index, source, accumulate=False):
        return _ops.put(self, index, source, accumulate)

    def put_(self, index, source, accumulate=False):
        return _ops.inplace(self, _ops.put, index, source, accumulate)

    def index_put(self, indices, values, accumulate=False):
        return _ops.index_put(self, indices, values, accumulate)

    def index_put_(self, indices, values, accumulate=False):
        return _ops.index_put_(self, indices, values, accumulate)

    def masked_scatter(self, mask, source):
        return _ops.masked_scatter(self, mask, source)

    def masked_scatter_(self, mask, source):
        return _ops.inplace(self, _ops.masked_scatter, mask, source)

    def argwhere(self):
        return _ops.argwhere(self)

    def msort(self):
        return _ops.msort(self)

    def clamp_min(self, min):
        return _ops.clamp_min(self, min)

    def clamp_min_(self, min):
        return _ops.clamp_min_(self, min)

    def clamp_max(self, max):
        return _ops.clamp_max(self, max)

    def clamp_max_(self, max):
        return _ops.clamp_max_(self, max)

    def fill_diagonal_(self, fill_value, wrap=False):
        return _ops.fill_diagonal_(self, fill_value, wrap)

    def diagonal_scatter(self, src, offset=0, dim1=0, dim2=1):
        return _ops.diagonal_scatter(self, src, offset, dim1, dim2)

    def select_scatter(self, src, dim, index):
        return _ops.select_scatter(self, src, dim, index)

    def slice_scatter(self, src, dim=0, start=None, end=None, step=1):
        return _ops.slice_scatter(self, src, dim, start, end, step)

    def index_add(self, dim, index, source, *, alpha=1):
        return _ops.index_add(self, dim, index, source, alpha=alpha)

    def index_add_(self, dim, index, source, *, alpha=1):
        return _ops.inplace(self, _ops.index_add, dim, index, source, alpha=alpha)

    def index_copy(self, dim, index, source):
        return _ops.index_copy(self, dim, index, source)

    def index_copy_(self, dim, index, source):
        return _ops.inplace(self, _ops.index_copy, dim, index, source)

    def index_fill(self, dim, index, value):
        return _ops.index_fill(self, dim, index, value)

    def index_fill_(self, dim, index, value):
        return _ops.inplace(self, _ops.index_fill, dim, index, value)

    def masked_fill(self, mask, value):
        return _ops.masked_fill(self, mask, value)

    def masked_select(self, mask):
        return _ops.masked_select(self, mask)

    # -- linear algebra (tinytorch/_matrix_functions.py, on tinytorch.linalg) ----------------------
    def det(self):
        return _matrix_functions.det(self)

    def logdet(self):
        return _matrix_functions.logdet(self)

    def slogdet(self):
        return _matrix_functions.slogdet(self)

    def inverse(self):
        return _matrix_functions.inverse(self)

    def pinverse(self, rcond=1e-15):
        return _matrix_functions.pinverse(self, rcond)

    def matrix_power(self, n):
        return _matrix_functions.matrix_power(self, n)

    def cholesky(self, upper=False):
        return _matrix_functions.cholesky(self, upper)

    def cholesky_inverse(self, upper=False):
        return _matrix_functions.cholesky_inverse(self, upper)

    def cholesky_solve(self, input2, upper=False):
        return _matrix_functions.cholesky_solve(self, input2, upper)

    def qr(self, some=True):
        return _matrix_functions.qr(self, some)

    def svd(self, some=True, compute_uv=True):
        return _matrix_functions.svd(self, some, compute_uv)

    def cross(self, other, dim=None):
        return _matrix_functions.cross(self, other, dim)

    # -- in place (each bumps the version counter that backward checks) --------------------------
    def add_(self, other, *, alpha=1):
        return _ops.arithmetic_(self, "add", other, alpha)

    def sub_(self, other, *, alpha=1):
        return _ops.arithmetic_(self, "sub", other, alpha)

    def mul_(self, other):
        return _ops.arithmetic_(self, "mul", other)

    def div_(self, other, *, rounding_mode=None):
        if rounding_mode is not None:
            return _ops.inplace(self, _ops.div, other, rounding_mode=rounding_mode)
        return _ops.arithmetic_(self, "div", other)

    def pow_(self, exponent):
        return _ops.inplace(self, _ops.pow, exponent)

    def neg_(self):
        return _ops.inplace(self, _ops.neg)

    def abs_(self):
        return _ops.inplace(self, _ops.abs)

    def exp_(self):
        return _ops.inplace(self, _ops.exp)

    def log_(self):
        return _ops.inplace(self, _ops.log)

    def sqrt_(self):
        return _ops.inplace(self, _ops.sqrt)

    def sigmoid_(self):
        return _ops.inplace(self, _ops.sigmoid)

    def tanh_(self):
        return _ops.inplace(self, _ops.tanh)

    def sinh_(self):
        return _ops.inplace(self, _ops.sinh)

    def cosh_(self):
        return _ops.inplace(self, _ops.cosh)

    def asin_(self):
        return _ops.inplace(self, _ops.asin)

    def acos_(self):
        return _ops.inplace(self, _ops.acos)

    def atan_(self):
        return _ops.inplace(self, _ops.atan)

    def asinh_(self):
        return _ops.inplace(self, _ops.asinh)

    def acosh_(self):
        return _ops.inplace(self, _ops.acosh)

    def atanh_(self):
        return _ops.inplace(self, _ops.atanh)

    arcsin_, arccos_, arctan_, arcsinh_, arccosh_, arctanh_ = asin_, acos_, atan_, asinh_, acosh_, atanh_

    def relu_(self):
        return _ops.inplace(self, _ops.relu)

    def clamp_(self, min=None, max=None):
        return _ops.inplace(self, _ops.clamp, min, max)

    clip_ = clamp_

    def masked_fill_(self, mask, value):
        return _ops.inplace(self, _ops.masked_fill, mask, value)

    def lerp_(self, end, weight):
        return _ops.inplace(self, _ops.lerp, end, weight)

    def lgamma_(self):
        return _ops.inplace(self, _ops.lgamma)

    def digamma_(self):
        return _ops.inplace(self, _ops.digamma)

    def erfinv_(self):
        return _ops.inplace(self, _ops.erfinv)

    # The rest of PyTorch's pointwise in-place forms: each stores its op's result in place (the
    # in-place casting rules in ``_ops.inplace``; comparisons store 1/0 in the tensor's dtype).
    def sin_(self):
        return _ops.inplace(self, _ops.sin)

    def cos_(self):
        return _ops.inplace(self, _ops.cos)

    def tan_(self):
        return _ops.inplace(self, _ops.tan)

    def ceil_(self):
        return _ops.inplace(self, _ops.ceil)

    def floor_(self):
        return _ops.inplace(self, _ops.floor)

    def round_(self, *, decimals=0):
        return _ops.inplace(self, _ops.round, decimals=decimals)

    def trunc_(self):
        return _ops.inplace(self, _ops.trunc)

    def sign_(self):
        return _ops.inplace(self, _ops.sign)

    def expm1_(self):
        return _ops.inplace(self, _ops.expm1)

    def log1p_(self):
        return _ops.inplace(self, _ops.log1p)

    def log2_(self):
        return _ops.inplace(self, _ops.log2)

    def log10_(self):
        return _ops.inplace(self, _ops.log10)

    def erf_(self):
        return _ops.inplace(self, _ops.nn_ops.erf)

    def reciprocal_(self):
        return _ops.inplace(self, _ops.reciprocal)

    def rsqrt_(self):
        return _ops.inplace(self, _ops.rsqrt)

    def square_(self):
        return _ops.inplace(self, _ops.square)

    def polygamma_(self, n):
        return _ops.inplace(self, lambda x: _ops.polygamma(n, x))

    def bitwise_not_(self):
        return _ops.inplace(self, _ops.bitwise_not)

    def logical_not_(self):
        return _ops.inplace(self, _ops.logical_not)

    negative_, absolute_ = neg_, abs_

    def bitwise_and(self, other):
        return _ops.bitwise_and(self, other)

    def bitwise_or(self, other):
        return _ops.bitwise_or(self, other)

    def bitwise_xor(self, other):
        return _ops.bitwise_xor(self, other)

    def bitwise_not(self):
        return _ops.bitwise_not(self)

    def bitwise_and_(self, other):
        return _ops.inplace(self, _ops.bitwise_and, other)

    def bitwise_or_(self, other):
        return _ops.inplace(self, _ops.bitwise_or, other)

    def bitwise_xor_(self, other):
        return _ops.inplace(self, _ops.bitwise_xor, other)

    def logical_and_(self, other):
        return _ops.inplace(self, _ops.logical_and, other)

    def logical_or_(self, other):
        return _ops.inplace(self, _ops.logical_or, other)

    def logical_xor_(self, other):
        return _ops.inplace(self, _ops.logical_xor, other)

    def eq_(self, other):
        return _ops.inplace(self, _ops.eq, other)

    def ne_(self, other):
        return _ops.inplace(self, _ops.ne, other)

    def lt_(self, other):
        return _ops.inplace(self, _ops.lt, other)

    def le_(self, other):
        return _ops.inplace(self, _ops.le, other)

    def gt_(self, other):
        return _ops.inplace(self, _ops.gt, other)

    def ge_(self, other):
        return _ops.inplace(self, _ops.ge, other)

    not_equal_, less_, less_equal_, greater_, greater_equal_ = ne_, lt_, le_, gt_, ge_

    def fmod_(self, other):
        return _ops.inplace(self, _ops.fmod, other)

    def remainder_(self, other):
        return _ops.inplace(self, _ops.remainder, other)

    def floor_divide_(self, other):
        return _ops.inplace(self, _ops.floor_divide, other)

    divide_, true_divide_, multiply_, subtract_ = div_, div_, mul_, sub_

    def cumsum_(self, dim, *, dtype=None):
        return _ops.inplace(self, _ops.cumsum, dim, dtype=dtype)

    def cumprod_(self, dim, *, dtype=None):
        return _ops.inplace(self, _ops.cumprod, dim, dtype=dtype)

    def tril_(self, diagonal=0):
        return _ops.inplace(self, _ops.tril, diagonal)

    def triu_(self, diagonal=0):
        return _ops.inplace(self, _ops.triu, diagonal)

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        return _ops.inplace(self, _ops.scatter, dim, index, src, value=value, reduce=reduce)

    def scatter_add_(self, dim, index, src):
        return _ops.inplace(self, _ops.scatter_add, dim, index, src)

    def lu_solve(self, LU_data, LU_pivots):
        return _matrix_functions.lu_solve(self, LU_data, LU_pivots)

    def matrix_exp(self):
        return _matrix_functions.matrix_exp(self)

    def triangular_solve(self, A, upper=True, transpose=False, unitriangular=False):
        return _matrix_functions.triangular_solve(self, A, upper, transpose, unitriangular)

    def xlogy_(self, other):
        return _ops.inplace(self, _ops.xlogy, other)

    def addcmul(self, tensor1, tensor2, *, value=1):
        return _ops.addcmul(self, tensor1, tensor2, value=value)

    def addcdiv(self, tensor1, tensor2, *, value=1):
        return _ops.addcdiv(self, tensor1, tensor2, value=value)

    def addcmul_(self, tensor1, tensor2, *, value=1):
        return _ops.inplace(self, _ops.addcmul, tensor1, tensor2, value=value)

    def addcdiv_(self, tensor1, tensor2, *, value=1):
        return _ops.inplace(self, _ops.addcdiv, tensor1, tensor2, value=value)

    def copy_(self, src, non_blocking=False):
        if not isinstance(src, Tensor):
            raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not {type(src).__name__}")
        return _ops.inplace(self, _ops.copy_from, src)

    def zero_(self):
        return _ops.fill_(self, 0)

    def fill_(self, value):
        if not isinstance(value, (numbers.Number, Tensor)):
            raise TypeError(
                f"fill_() received an invalid combination of arguments - got ({type(value).__name__}), but expected one of:\n"
                " * (Tensor value)\n * (Number value)"
            )
        return _ops.fill_(self, value)

    def apply_(self, callable, /):
        """Replace each element by ``callable(element)`` (Python numbers in and out); CPU only, slow."""
        return _python_apply.python_apply(self, callable, (), "apply_")

    def map_(self, other, callable):
        """Replace each element by ``callable(element, other_element)``, ``other`` broadcast to self's shape; CPU only."""
        return _python_apply.python_apply(self, callable, (other,), "map_", ("'other'",))

    def map2_(self, x, y, callable):
        """Replace each element by ``callable(element, x_element, y_element)``, ``x`` and ``y`` broadcast; CPU only."""
        return _python_apply.python_apply(self, callable, (x, y), "map2_", ("argument 'x'", "argument 'y'"))

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        return _random.uniform_(self, a, b, generator=generator)

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        return _random.normal_(self, mean, std, generator=generator)

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        return _ops.multinomial(self, num_samples, replacement, generator=generator)

    def bernoulli(self, p=None, *, generator=None):
        return _ops.bernoulli(self, p, generator=generator)

    def bernoulli_(self, p=0.5, *, generator=None):
        return _random.bernoulli_(self, p, generator=generator)

    def exponential_(self, lambd=1.0, *, generator=None):
        return _random.exponential_(self, lambd, generator=generator)

    def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
        return _random_fills.cauchy_(self, median, sigma, generator=generator)

    def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
        return _random_fills.log_normal_(self, mean, std, generator=generator)

    def geometric_(self, p, *, generator=None):
        return _random_fills.geometric_(self, p, generator=generator)

    def random_(self, low=None, high=None, *, generator=None):
        return _random.random_(self, low, high, generator=generator)


def _split_argument(values):
    """The Tensor methods hsplit/vsplit/dsplit take one int or list, or the indices as separate ints."""
    return None if not values else values[0] if len(values) == 1 else list(values)


def _init(t, data, requires_grad, grad_fn, output_nr):
    if not data.size and data.ndim:
        data = _memory_format.restride_empty(data)  # NumPy 2's new empty arrays have no strides
    t._data = data
    t._requires_grad = requires_grad
    t._grad = None
    t.grad_fn = grad_fn
    t._output_nr = output_nr
    t._version = [0]
    t._base = None
    t._accumulator = None
    t._hooks = None
    t._post_accumulate_hooks = None
    t._retains_grad = False
    t._inference = _grad_state.inference  # made under inference_mode: is_inference()


class Size(tuple):
    """A tensor's shape: a tuple of ints, printed as ``tinytorch.Size([...])``."""

    def __repr__(self):
        return f"tinytorch.Size({list(self)})"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        result = tuple.__getitem__(self, item)
        return Size(result) if isinstance(item, slice) else result

    def __add__(self, other):  # Size + tuple and tuple + Size are Sizes, as in PyTorch
        return Size(tuple.__add__(self, other)) if isinstance(other, tuple) else NotImplemented

    def __radd__(self, other):
        return Size(tuple.__add__(other, self)) if isinstance(other, tuple) else NotImplemented


def _to_array(data):
    """A NumPy array from nested lists, numbers, arrays or tensors."""
    if isinstance(data, Tensor):
        return data._data
    return data if isinstance(data, np.ndarray) or backend.is_cuda_array(data) else np.asarray(data)


def _check_assigned_grad(tensor, grad):
    """PyTorch's checks on ``tensor.grad = grad``: a tensor of the same dtype, device and size."""
    if not isinstance(grad, Tensor):
        raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {type(grad).__name__}")
    if grad is tensor:
        raise RuntimeError("can't assign Variable as its own grad")
    data, own = grad._data, tensor._data
    if data.dtype != own.dtype:
        raise RuntimeError(
            f"attempting to assign a gradient with dtype '{dtypes.cpp_type_name(data.dtype)}' to a tensor with dtype "
            f"'{dtypes.scalar_type_name(own.dtype)}'. Please ensure that the gradient and the tensor have the same dtype"
        )
    if data.__class__ is not own.__class__ or backend.is_cuda_array(own):
        grad_device, own_device = grad.device, tensor.device  # a sparse grad's device is its values'
        if grad_device.type != own_device.type:
            raise RuntimeError(
                f"attempting to assign a gradient with device type '{grad_device.type}' to a tensor with device type "
                f"'{own_device.type}'. Please ensure that the gradient and the tensor are on the same device"
            )
        if grad_device != own_device:
            raise RuntimeError(
                f"attempting to assign a gradient located on device with index '{grad_device.index}' to a tensor located "
                f"on device with index '{own_device.index}'. Please ensure that the gradient and the tensor are on the same device"
            )
    if data.shape != own.shape:
        raise RuntimeError(
            f"attempting to assign a gradient of size '{list(data.shape)}' to a tensor of size '{list(own.shape)}'. "
            "Please ensure that the gradient and the tensor are the same size"
        )


def _rebuild(array, requires_grad, device):
    out = Tensor._make(backend.to_device(array, device))
    if requires_grad:
        out.requires_grad = True
    return out


# Imported last (a cycle): these modules import Tensor from here, so the class must exist first
# (_matrix_functions through tinytorch.linalg).
from . import _ops as _ops, random as _random, _creation as _creation  # noqa: E402
from . import _from_data, _matrix_functions, _sparse_coo, _tensor_types  # noqa: E402
from . import _creation_extra as _creation_extra  # noqa: E402
from ._ops import views_extra as _views_extra  # noqa: E402
from . import _random_fills as _random_fills  # noqa: E402
from . import _python_apply as _python_apply  # noqa: E402
from ._ops import strided as _strided  # noqa: E402
from . import _legacy_methods as _legacy_methods  # noqa: E402
_SCALARS = (int, float, bool)
_OPERANDS = (Tensor, numbers.Number, np.generic, np.ndarray)
