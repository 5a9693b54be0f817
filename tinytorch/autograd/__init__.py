"""Reverse-mode automatic differentiation: ``backward``, ``grad``, grad modes, ``Function``,
``gradcheck`` and anomaly detection."""

from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .function import Function, once_differentiable
from .grad_mode import (
    enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
    set_grad_enabled,
)
from .gradcheck import gradcheck, gradgradcheck
from .api import backward, grad
from .trace import trace

__all__ = [
    "Function", "backward", "detect_anomaly", "enable_grad", "grad", "gradcheck", "gradgradcheck",
    "inference_mode", "is_anomaly_enabled", "is_grad_enabled", "is_inference_mode_enabled",
    "no_grad", "once_differentiable", "set_detect_anomaly", "set_grad_enabled", "trace",
]
