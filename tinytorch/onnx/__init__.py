"""``tinytorch.onnx``: export a model to ONNX (``export``), written by the ``onnx`` package.

The model runs once (twice, to tell the dynamic axes apart), the ops it ran are recorded where
autograd records them (``Function.apply``), and each becomes ONNX nodes; see docs/ecosystem.md.
"""

from ._export import export, state as _state
from ._graph import OnnxExporterError

__all__ = ["OnnxExporterError", "export", "is_in_onnx_export"]


def is_in_onnx_export():
    """True while ``export`` runs the model (a model may branch on it, as in PyTorch)."""
    return _state.exporting
