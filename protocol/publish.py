"""The published protocol: one JSON Schema (draft 2020-12) per message in `schemas/` and the
AsyncAPI 3.0 document `asyncapi.json`, generated from the pydantic models.

    seed-hub protocol export [--out DIR]     # or: python -m protocol.publish [--out DIR]

Output is deterministic (sorted keys, fixed indentation), so a test can tell when the
committed files have drifted from the models.
"""

import argparse
import json
from pathlib import Path
from typing import Any

from protocol.asyncapi import asyncapi_document
from protocol.catalogue import CATALOGUE, JsonObject, WireMessage, check_example
from protocol.files import write_public
from protocol.messages import SCHEMA_VERSION

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID_PREFIX = "urn:seed-kiosk-hub:protocol:"
ASYNCAPI_FILE = "asyncapi.json"
SCHEMAS_FOLDER = "schemas"
PUBLISHED_DIR = Path(__file__).parent
"""Where the committed files live: beside this module."""
EXPORT_COMMAND = "seed-hub protocol export"


def schema_file(wire: WireMessage) -> str:
    """Its path relative to the AsyncAPI document: `schemas/press_event.v1.json`."""
    return f"{SCHEMAS_FOLDER}/{wire.name}.v{SCHEMA_VERSION}.json"


def message_schema(wire: WireMessage) -> JsonObject:
    """The message's JSON Schema, with its id, dialect and examples."""
    schema = wire.model.model_json_schema(mode="validation")
    required = [*wire.required, *(f for f in schema.get("required", []) if f not in wire.required)]
    return {
        **schema,
        "$schema": SCHEMA_DIALECT,
        "$id": f"{SCHEMA_ID_PREFIX}{wire.name}:v{SCHEMA_VERSION}",
        "title": f"{wire.model.__name__} v{SCHEMA_VERSION}",
        "description": schema.get("description", wire.summary),
        "required": required,
        "examples": [example.payload for example in wire.examples],
    }


def render(document: Any) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def published_files() -> dict[str, bytes]:
    """Relative path -> content of every published file; refuses an example the real
    decoder does not read."""
    for wire in CATALOGUE:
        for example in wire.examples:
            check_example(wire, example)
    files = {schema_file(wire): render(message_schema(wire)) for wire in CATALOGUE}
    files[ASYNCAPI_FILE] = render(asyncapi_document(CATALOGUE, schema_file))
    return files


def export(out: Path = PUBLISHED_DIR) -> list[Path]:
    """Write the published files under `out`; returns their paths."""
    written = []
    for name, content in published_files().items():
        path = out / name
        write_public(path, content)
        written.append(path)
    return written


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=PUBLISHED_DIR,
        metavar="DIR",
        help=f"where to write asyncapi.json and schemas/ (default: {PUBLISHED_DIR})",
    )


def run_export(args: argparse.Namespace) -> int:
    for path in export(args.out):
        print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m protocol.publish", description=__doc__)
    add_export_arguments(parser)
    return run_export(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
