"""Entry modules, one per invoke task (named like the task): option checks, then the stages."""
