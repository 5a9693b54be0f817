"""Matrix products: MatMul (1-D, 2-D, batched with broadcasting) and Linear, fused as one op."""


from ..autograd.function import Function
from ..autograd.grad_mode import state as grad_state
from .. import _backend as backend, _dtypes as dtypes
from ..amp import _policy  # autocast: each public product checks _policy.armed (one read when off)
from .._tensor import Tensor
from ._util import check_same_device, check_tensor_arguments, promote, wrap, write_out
from .movement import Permute
from .reduce import Sum


def _shape_text(shape):
    return "x".join(str(s) for s in shape)


def _check_matmul(a, b):
    sa, sb = a._data.shape, b._data.shape
    if not sa or not sb:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {len(sa)}D and {len(sb)}D")
    inner_a = sa[-1]
    inner_b = sb[0] if len(sb) == 1 else sb[-2]
    if inner_a != inner_b:
        if len(sa) == 1 and len(sb) == 1:
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to have the same "
                f"number of elements, but got {sa[0]} and {sb[0]} elements respectively"
            )
        if len(sa) <= 2 and len(sb) <= 2:
            rows = sa if len(sa) == 2 else (1,) + sa
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_shape_text(rows)} and {_shape_text(sb)})")
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{inner_a}] but got: [{inner_b}]; "
            f"shapes {list(sa)} and {list(sb)} cannot be multiplied"
        )


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        a_data, b_data = a._data, b._data
        if a_data.ndim == 2 and b_data.ndim == 2:
            return wrap(backend.mm(a_data, b_data))
        try:
            return wrap(backend.matmul(a_data, b_data))
        except ValueError:
            raise RuntimeError(f"shapes {list(a._data.shape)} and {list(b._data.shape)} cannot be multiplied: batch dimensions do not broadcast") from None

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        if a.dim() == 1 and b.dim() == 1:  # a dot product: the output is a scalar
            return (grad_output * b if ctx.needs_input_grad[0] else None, grad_output * a if ctx.needs_input_grad[1] else None)
        # 1-D operands are matrices with a dim of 1 for the products, then squeezed back.
        a2 = a.unsqueeze(0) if a.dim() == 1 else a
        b2 = b.unsqueeze(-1) if b.dim() == 1 else b
        g = grad_output
        if a.dim() == 1:
            g = g.unsqueeze(-2)
        if b.dim() == 1:
            g = g.unsqueeze(-1)
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = g @ b2.mT
            if a.dim() == 1:
                grad_a = grad_a.squeeze(-2)
        if ctx.needs_input_grad[1]:
            grad_b = a2.mT @ g
            if b.dim() == 1:
                grad_b = grad_b.squeeze(-1)
        return grad_a, grad_b


class Linear(Function):
    """input @ weight.T + bias in one node.

    Fused because it is the hot path of every MLP: the backward is two GEMMs and one sum, with no
    intermediate transposed copies, and the data batch's gradient is skipped (needs_input_grad).
    Its array backward's gradients are new products and a sum: fresh (``Function._fresh_grads``).
    """

    _fresh_grads = True

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        data = x._data
        b = None if bias is None else bias._data
        if data.ndim == 2:
            out = backend.matmul_transposed(data, weight._data, b)
        elif data.ndim > 2:
            # Batch dims folded into one GEMM: NumPy's matmul of a stack against W^T runs one
            # small GEMM per leading index and copies W^T for each (measured 35 x 20 x 200 by
            # 10000 x 200, the word-LM decoder: ~8x slower than the folded GEMM).
            out = backend.matmul_transposed(data.reshape(-1, data.shape[-1]), weight._data, b).reshape(data.shape[:-1] + (weight._data.shape[0],))
        else:
            out = data @ weight._data.T
            if b is not None:
                out += b
        return wrap(out)

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        if not grad_state.enabled:
            return _linear_backward_arrays(x._data, weight._data, grad_output._data, needs, ctx.has_bias)
        # create_graph: the same products as tensor ops, so that they are differentiable again.
        # Primitives are applied directly: shapes and dtypes are known to be valid here.
        grad_x = MatMul.apply(grad_output, weight) if needs[0] else None
        grad_weight = grad_bias = None
        if needs[1] or (ctx.has_bias and needs[2]):
            # Batch dims fold into one so the weight gradient is a single GEMM.
            g2 = grad_output.reshape(-1, grad_output.shape[-1]) if grad_output.dim() != 2 else grad_output
            if needs[1]:
                x2 = x.reshape(-1, x.shape[-1]) if x.dim() != 2 else x
                grad_weight = MatMul.apply(Permute.apply(g2, (1, 0)), x2)
            if ctx.has_bias and needs[2]:
                grad_bias = Sum.apply(g2, (0,), False, None)
        return grad_x, grad_weight, grad_bias


def _linear_backward_arrays(x, weight, grad, needs, has_bias):
    """Linear's gradients from arrays: a plain backward builds no graph, so it skips the tensor
    ops' dispatch (8 fewer op calls per layer: ~40 us per step of the lecture's MLP)."""
    g2 = grad.reshape(-1, grad.shape[-1]) if grad.ndim != 2 else grad
    grad_x = wrap(backend.mm(g2, weight).reshape(x.shape) if grad.ndim > 2 else backend.mm(grad, weight)) if needs[0] else None
    grad_weight = grad_bias = None
    if needs[1]:
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        grad_weight = wrap(backend.mm(g2.T, x2))
    if has_bias and needs[2]:
        grad_bias = wrap(backend.sum_rows(g2))
    return grad_x, grad_weight, grad_bias


def _kernel(ndim_a, ndim_b):
    """Which of PyTorch's kernels a matmul of these ranks runs: its dtype errors are that kernel's."""
    if ndim_a == 1 and ndim_b == 1:
        return "dot"
    if ndim_b == 1 and ndim_a >= 2:
        return "mv"
    if ndim_b == 2 and ndim_a >= 1:
        return "mm"
    return "bmm"


def _check_matmul_dtypes(a, b):
    """PyTorch multiplies matrices of one dtype only (no promotion), and no bool matrices."""
    da, db = a._data.dtype, b._data.dtype
    if da == db and da.kind != "b":
        return
    kernel = _kernel(a._data.ndim, b._data.ndim)
    if da == db:
        raise NotImplementedError(
            f'"{ {"dot": "dot", "mv": "addmv_impl_cpu", "mm": "addmm_impl_cpu_", "bmm": "bmm"}[kernel]}" '
            f"not implemented for '{dtypes.scalar_type_name(da)}'"
        )
    name_a, name_b = dtypes.scalar_type_name(da), dtypes.scalar_type_name(db)
    if kernel == "dot":
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {name_a} and {name_b}")
    if kernel == "mv":
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {name_b}, {name_a}, and {name_b}")
    if kernel == "mm":
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {dtypes.cpp_type_name(da)} != {dtypes.cpp_type_name(db)}"
        )
    raise RuntimeError(f"expected scalar type {name_a} but found {name_b}")


def matmul(input, other, *, out=None):
    """Matrix product with PyTorch's rules for 1-D, 2-D and batched (broadcast) operands."""
    if out is not None:
        return write_out(out, "matmul", matmul, input, other)
    if getattr(input, "is_sparse", False) or getattr(other, "is_sparse", False):
        return _sparse_coo.matmul(input, other)
    if _policy.armed:
        input, other = _policy.cast("matmul", input, other)
    return _dense_matmul(input, other)


def _dense_matmul(input, other):
    """matmul past ``out=``, sparse operands and autocast (mm, bmm, dot... run their own autocast policy)."""
    if isinstance(input, Tensor) and isinstance(other, Tensor):
        check_same_device(input, other)
        _check_matmul_dtypes(input, other)
        a, b = input, other
    else:
        a, b = promote(input, other)
    _check_matmul(a, b)
    return MatMul.apply(a, b)


def mm(input, mat2, *, out=None):
    if out is not None:
        return write_out(out, "mm", mm, input, mat2)
    if getattr(input, "is_sparse", False) or getattr(mat2, "is_sparse", False):
        return _sparse_coo.mm(input, mat2)
    if input.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError(f"{'self' if input.dim() != 2 else 'mat2'} must be a matrix")
    if _policy.armed:
        input, mat2 = _policy.cast("mm", input, mat2)
    return _dense_matmul(input, mat2)


def bmm(input, mat2, *, out=None):
    if out is not None:
        return write_out(out, "bmm", bmm, input, mat2)
    if input.dim() != 3 or mat2.dim() != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if input.dim() != 3 else "batch2 must be a 3D tensor")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{input.shape[0]}, {input.shape[2]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}].")
    if _policy.armed:
        input, mat2 = _policy.cast("bmm", input, mat2)
    return _dense_matmul(input, mat2)


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat1 @ mat2); with beta=0 ``input`` is ignored (nan and inf too)."""
    if out is not None:
        return write_out(out, "addmm", addmm, input, mat1, mat2, beta=beta, alpha=alpha)
    for name, matrix in (("mat1", mat1), ("mat2", mat2)):
        if matrix.dim() != 2:
            raise RuntimeError(f"{name} must be a matrix, got {matrix.dim()}-D tensor")
    if _policy.armed:
        input, mat1, mat2 = _policy.cast("addmm", input, mat1, mat2)
    return _scaled_sum(input, _dense_matmul(mat1, mat2), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (batch1 @ batch2) for batches of matrices (batch1: (b, n, m), batch2: (b, m, p))."""
    if out is not None:
        return write_out(out, "baddbmm", baddbmm, input, batch1, batch2, beta=beta, alpha=alpha)
    if batch1.dim() != 3 or batch2.dim() != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if batch1.dim() != 3 else "batch2 must be a 3D tensor")
    b, n, m = batch1.shape
    if tuple(batch2.shape[:2]) != (b, m):
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{b}, {m}] but got: [{batch2.shape[0]}, {batch2.shape[1]}]."
        )
    if _policy.armed:
        input, batch1, batch2 = _policy.cast("baddbmm", input, batch1, batch2)
    return _scaled_sum(input, _dense_matmul(batch1, batch2), beta, alpha)


def _scaled_sum(input, product, beta, alpha):
    """beta * input + alpha * product, input broadcast to the product's shape (never the reverse)."""
    shape = tuple(product.shape)
    if input.dim() > len(shape):
        raise RuntimeError(
            f"expand({input.type()}{{{list(input.shape)}}}, size={list(shape)}): the number of sizes provided ({len(shape)}) "
            f"must be greater or equal to the number of dimensions in the tensor ({input.dim()})"
        )
    for offset in range(1, input.dim() + 1):
        have, want = input.shape[-offset], shape[-offset]
        if have not in (1, want):
            raise RuntimeError(
                f"The expanded size of the tensor ({want}) must match the existing size ({have}) at non-singleton dimension "
                f"{len(shape) - offset}.  Target sizes: {list(shape)}.  Tensor sizes: {list(input.shape)}"
            )
    scaled = product if alpha == 1 else product * alpha
    if beta == 0:  # PyTorch ignores input then, so nan or inf in it do not propagate
        if input.requires_grad:  # ... and its gradient is zeros, not None
            return scaled + input.masked_fill(input.new_ones((), dtype=dtypes.bool), 0.0)
        return scaled
    return scaled + (input if beta == 1 else input * beta)


def dot(input, other, *, out=None):
    if out is not None:
        return write_out(out, "dot", dot, input, other)
    if input.dim() != 1 or other.dim() != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.dim()}D and {other.dim()}D tensors")
    if _policy.armed:
        input, other = _policy.cast("dot", input, other)
    return _dense_matmul(input, other)


def _check_outer_vectors(name, first, input, second, other):
    """PyTorch's outer/ger/addr take 1-D tensors only."""
    for argument, tensor in ((first, input), (second, other)):
        if tensor.dim() != 1:
            raise RuntimeError(f"{name}: Expected 1-D argument {argument}, but got {tensor.dim()}-D")


def outer(input, vec2, *, out=None):
    """The outer product of two vectors: (n,) and (m,) give (n, m)."""
    if out is not None:
        return write_out(out, "outer", outer, input, vec2)
    check_tensor_arguments("outer", input=input, vec2=vec2)
    _check_outer_vectors("outer", "self", input, "vec2", vec2)
    return input.unsqueeze(-1) * vec2


def linear(input, weight, bias=None):
    """input @ weight.T + bias (PyTorch's F.linear)."""
    if _policy.armed:
        input, weight, bias = _policy.cast("linear", input, weight, bias)
    data, w = input._data, weight._data
    check_same_device(input, weight)
    if bias is not None:
        check_same_device(input, bias)
    if bias is not None and bias._data.dtype != w.dtype:
        raise RuntimeError(
            f"self and mat2 must have the same dtype, but got {dtypes.scalar_type_name(bias._data.dtype)} and {dtypes.scalar_type_name(w.dtype)}"
        )
    if data.dtype is not w.dtype and data.dtype != w.dtype:
        if bias is None:  # PyTorch runs matmul (its mm's words), else addmm
            raise RuntimeError(
                f"expected m1 and m2 to have the same dtype, but got: {dtypes.cpp_type_name(data.dtype)} != {dtypes.cpp_type_name(w.dtype)}"
            )
        raise RuntimeError(
            f"mat1 and mat2 must have the same dtype, but got {dtypes.scalar_type_name(data.dtype)} and {dtypes.scalar_type_name(w.dtype)}"
        )
    if data.ndim == 0 or data.shape[-1] != w.shape[-1]:
        rows = 1
        for s in data.shape[:-1]:
            rows *= s
        cols = data.shape[-1] if data.ndim else 1
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{cols} and {_shape_text(w.shape[::-1])})"
        )
    if w.ndim == 1:
        return matmul(input, weight) + (bias if bias is not None else 0)
    return Linear.apply(input, weight, bias)


# Imported last (a cycle): _sparse_coo imports mm from here (and Tensor, the ops it builds on).
from .. import _sparse_coo  # noqa: E402
