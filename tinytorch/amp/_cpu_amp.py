"""``torch.cpu.amp``: the deprecated CPU forms of ``torch.amp`` (each warns FutureWarning)."""

from ._deprecated import CpuAutocast as autocast, CpuGradScaler as GradScaler

__all__ = ["autocast", "GradScaler"]
