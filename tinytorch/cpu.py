"""``torch.cpu``: the CPU as a device module (always available, one device), and ``cpu.amp``."""

import sys

from .amp import _cpu_amp as amp  # noqa: F401 (re-exported: torch.cpu.amp)

sys.modules[__name__ + ".amp"] = amp  # `from torch.cpu.amp import autocast` (a file, not a package)


def is_available():
    """True: the CPU is always there."""
    return True


def device_count():
    return 1


def current_device():
    return "cpu"


def synchronize(device=None):
    """Nothing to wait for: CPU ops finish before they return."""
