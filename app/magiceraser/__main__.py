"""``python -m magiceraser``: the same commands as the ``magiceraser`` script."""

from .cli import main

raise SystemExit(main())
