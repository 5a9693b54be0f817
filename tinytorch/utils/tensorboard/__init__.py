"""``tinytorch.utils.tensorboard``: ``SummaryWriter`` logs for TensorBoard, as PyTorch's does.

Needs the ``tensorboard`` package (``pip install 'tinytorch[tensorboard]'``), which writes the
event files: importing this module without it raises ImportError, as in PyTorch.
"""

try:
    import tensorboard
except ImportError:
    raise ImportError("TensorBoard logging requires the tensorboard package: pip install 'tinytorch[tensorboard]'") from None

from tensorboard.summary.writer.record_writer import RecordWriter

from . import summary, writer
from .writer import FileWriter, SummaryWriter

__all__ = ["FileWriter", "RecordWriter", "SummaryWriter"]

del tensorboard
