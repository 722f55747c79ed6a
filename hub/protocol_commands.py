"""`seed-hub protocol export`: write the published protocol (AsyncAPI document and one JSON
Schema per message) from the models."""

from hub.cli_options import Commands
from protocol.publish import add_export_arguments, run_export


def add_protocol_commands(commands: Commands) -> None:
    protocol = commands.add_parser(
        "protocol", help="the wire protocol other terminals speak (docs/protocol.md)"
    )
    actions = protocol.add_subparsers(dest="action", required=True)
    export = actions.add_parser(
        "export",
        help="write asyncapi.json and schemas/*.json from the message models",
        description="Write the AsyncAPI 3.0 document and one JSON Schema per message, "
        "generated from the message models; commit them when a model changes.",
    )
    add_export_arguments(export)
    export.set_defaults(run=run_export)
