"""See torch/__init__.py of this stand-in."""
import torch as _torch

functional = _torch.nn.functional
