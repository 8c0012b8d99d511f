"""BLAS probe: which OpenBLAS is in use, its kernel, the CPU's vector unit, sgemm speed, a verdict.

Standard library only (ctypes), so the tool runs it on a bare Python (``python -m magiceraser.blas``)
and the service runs it in-process for ``/api/v1/health``.
"""

from .probe import lines, run, summary

__all__ = ["lines", "run", "summary"]
