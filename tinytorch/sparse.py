"""``torch.sparse``: products and sums of sparse COO tensors (``tinytorch.sparse_coo_tensor``,
``Tensor.to_sparse``). The products run on ``scipy.sparse`` on the CPU and on
``cupyx.scipy.sparse`` on a GPU."""

from ._sparse_coo import sparse_mm as mm, sum


def addmm(mat, mat1, mat2, *, beta=1.0, alpha=1.0):
    """``beta * mat + alpha * (mat1 @ mat2)`` for a sparse ``mat1`` and dense ``mat`` and ``mat2``."""
    product = mm(mat1, mat2)
    return mat * beta + product * alpha


__all__ = ["addmm", "mm", "sum"]
