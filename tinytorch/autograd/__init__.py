"""Reverse-mode automatic differentiation: ``backward``, ``grad``, grad modes, ``Function``,
``gradcheck`` and anomaly detection."""

from .anomaly_mode import detect_anomaly, set_detect_anomaly
from .function import Function
from .grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled
from .gradcheck import gradcheck, gradgradcheck
from ._api import backward, grad
from .trace import trace

__all__ = [
    "Function", "backward", "detect_anomaly", "enable_grad", "grad", "gradcheck", "gradgradcheck",
    "inference_mode", "no_grad", "set_detect_anomaly", "set_grad_enabled", "trace",
]
