"""``tinytorch.backends``: the switches PyTorch programs set for their GPU libraries.

tinytorch computes with NumPy and CuPy, not cuDNN, MPS or cuBLAS flags of its own: the flags are
there so that programs which set them run unchanged, and they change nothing
(docs/differences.md). ``mps.is_available()`` is False: tinytorch has no Apple GPU backend.
"""

from . import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]
