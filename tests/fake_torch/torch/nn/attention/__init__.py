"""See torch/__init__.py of this stand-in."""
import enum

import torch as _torch


class SDPBackend(enum.Enum):
    EFFICIENT_ATTENTION = 1
    FLASH_ATTENTION = 2


sdpa_kernel = _torch._sdpa_kernel
