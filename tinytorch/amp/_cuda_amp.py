"""``torch.cuda.amp``: the deprecated CUDA forms of ``torch.amp`` (each warns FutureWarning)."""

from ._deprecated import CudaAutocast as autocast, CudaGradScaler as GradScaler, custom_bwd, custom_fwd
from ._deprecated import amp_definitely_not_available

__all__ = ["amp_definitely_not_available", "autocast", "custom_bwd", "custom_fwd", "GradScaler"]
