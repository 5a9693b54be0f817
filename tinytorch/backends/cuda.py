"""``tinytorch.backends.cuda``: ``is_built()`` and PyTorch's cuBLAS switches
(``matmul.allow_tf32``...), which programs may set and read back and which change nothing: CuPy
decides TF32 itself (its ``CUPY_TF32`` environment variable)."""

from .. import _backend


def is_built():
    """Whether tinytorch can run on CUDA at all: CuPy is installed."""
    return _backend.cupy is not None


class _MatmulFlags:
    """``tinytorch.backends.cuda.matmul``: PyTorch's cuBLAS flags, with PyTorch's defaults."""

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


matmul = _MatmulFlags()
