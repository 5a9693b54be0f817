"""The layers (``torch.nn.modules``): one file per family, re-exported by ``tinytorch.nn``."""
