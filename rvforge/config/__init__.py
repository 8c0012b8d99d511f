"""One config path: every YAML file and CLI flag is validated by the loader against a dataclass.

See ``loader`` for the rules and ``jsonschema`` for the schema shipped to editors.
"""

from rvforge.config.jsonschema import json_schema
from rvforge.config.loader import (
    Invalid,
    cli_overrides,
    describe,
    from_mapping,
    load_file,
    load_yaml,
    parse_value,
)

__all__ = ["Invalid", "cli_overrides", "describe", "from_mapping", "json_schema", "load_file",
           "load_yaml", "parse_value"]
