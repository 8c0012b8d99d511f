"""The torch-free half of the LaMa support: what a big-lama model must contain, checked without torch.

config.py reads the generator architecture from config.yaml, spec.py derives every weight's key
and shape from it, checkpoint_index.py lists a best.ckpt's tensors without unpickling code.
``invoke fetch-model`` (rvforge) verifies downloads with these on machines that have no torch
or numpy, so nothing here (nor magiceraser/__init__.py, lama/__init__.py, errors.py) imports them.
"""

from .checkpoint_index import verify_model_dir

__all__ = ["verify_model_dir"]
