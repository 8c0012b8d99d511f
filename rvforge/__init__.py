"""rvforge: build the riscv64 wheel stack and deploy MagicEraser, one command each."""

from pathlib import Path

__version__ = "0.1.0"

#: Checkout root: recipes/, configs/, patches/ and the default wheelhouse live here.
REPO_ROOT = Path(__file__).resolve().parent.parent
