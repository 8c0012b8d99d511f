"""The classical engine: exemplar completion in numpy, LaMa's fallback where no model is installed.

``engine`` fits the engine contract; ``completion`` runs the multi-scale fill (``pyramid``,
``texture`` channels, ``onionpeel`` structure-first coarse fill, ``patchmatch`` search and
``patchvote`` voting), ``seam`` blends the border and ``harmonic`` is the smooth fallback.
"""
