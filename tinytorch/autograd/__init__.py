"""Reverse-mode automatic differentiation: ``backward``, ``grad``, grad modes, ``Function``,
``gradcheck`` and anomaly detection."""

from .anomaly_mode import detect_anomaly, set_detect_anomaly
from .function import Function
from .grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled
from .gradcheck import gradcheck, gradgradcheck
from ._api import backward, grad
from .trace import trace
from ._engine_modes import enforce_grad_layout_policy, is_multithreading_enabled, set_multithreading_enabled
from .variable import Variable
from . import forward_ad
from . import graph


def __getattr__(name):
    # autograd.functional (jacobian, hessian, vjp...) loads at first use: most programs never
    # call it, and every import would pay for it.
    if name == "functional":
        import importlib

        return importlib.import_module(f"{__name__}.functional")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {"functional"})


def variable(*args, **kwargs):
    """Removed in PyTorch: always raises (use ``tensor`` instead)."""
    raise RuntimeError("tinytorch.autograd.variable(...) is deprecated, use tinytorch.tensor(...) instead")


__all__ = [
    "Function", "backward", "detect_anomaly", "enable_grad", "grad", "gradcheck", "gradgradcheck",
    "inference_mode", "no_grad", "set_detect_anomaly", "set_grad_enabled", "trace",
    "Variable", "enforce_grad_layout_policy", "set_multithreading_enabled", "variable",
]
