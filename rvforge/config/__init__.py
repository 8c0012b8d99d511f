"""One config path: every YAML file and CLI flag is validated against a dataclass.

``typeinfo`` reads what a dataclass declares, ``validate`` checks a mapping against it,
``yamlfile`` reads files, ``cli`` reads flags and ``jsonschema`` writes the schema shipped to
editors.
"""

from rvforge.config.cli import cli_overrides, existing_path, parse_value
from rvforge.config.jsonschema import json_schema
from rvforge.config.typeinfo import describe
from rvforge.config.validate import Invalid, check_known_fields, field_error, from_mapping
from rvforge.config.yamlfile import load_file, load_yaml

__all__ = ["Invalid", "check_known_fields", "cli_overrides", "existing_path", "describe", "field_error",
           "from_mapping", "json_schema", "load_file", "load_yaml", "parse_value"]
