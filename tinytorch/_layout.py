"""Memory layouts, as ``torch.layout``: ``strided`` (dense arrays) and ``sparse_coo``."""


class layout:
    """How a tensor stores its elements: ``tinytorch.strided`` or ``tinytorch.sparse_coo``."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"tinytorch.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


def _by_name(name):
    return _LAYOUTS[name]


strided = layout("strided")
sparse_coo = layout("sparse_coo")
_LAYOUTS = {"strided": strided, "sparse_coo": sparse_coo}
