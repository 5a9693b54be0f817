"""Testing helpers: ``assert_close`` (as torch.testing's) and ``check_op``, the property-based
gradient checker tinytorch's own op table uses, for your own ``autograd.Function``s."""

from .check import assert_close, check_op

__all__ = ["assert_close", "check_op"]
