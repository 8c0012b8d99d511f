"""LaMa big-lama support. config, spec, checkpoint_index and errors are torch-free (used by fetch-model)."""
