"""The published protocol: the committed AsyncAPI document and JSON Schemas match the
models, the schemas and the real decoders agree on every example and counter-example, and
the AsyncAPI document is valid AsyncAPI 3.0."""

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, Draft202012Validator

from hub.cli import main as seed_hub
from protocol.catalogue import CATALOGUE, WireMessage
from protocol.errors import ProtocolError
from protocol.publish import ASYNCAPI_FILE, EXPORT_COMMAND, PUBLISHED_DIR, schema_file
from protocol.topics import TOPIC_KINDS, Topics

VENDOR = Path(__file__).parents[1] / "vendor" / "asyncapi-specs"
ASYNCAPI_SCHEMA = VENDOR / "asyncapi-3.0.0.json"
ASYNCAPI_SCHEMA_SHA256 = "abe96881dbfaad495ccbb6bd8d3fb43ca18a13b9d7564849ccb66f39d5e5b20f"
PROTOCOL_DOC = Path(__file__).parents[2] / "docs" / "protocol.md"
BY_NAME = {wire.name: wire for wire in CATALOGUE}


def published(name: str) -> Any:
    return json.loads((PUBLISHED_DIR / name).read_text())


def schema_of(wire: WireMessage) -> dict[str, Any]:
    schema: dict[str, Any] = published(schema_file(wire))
    return schema


def validator(wire: WireMessage) -> Draft202012Validator:
    return Draft202012Validator(schema_of(wire), format_checker=Draft202012Validator.FORMAT_CHECKER)


def decodes(wire: WireMessage, document: Any) -> bool:
    try:
        decoded = wire.decode(json.dumps(document).encode())
    except ProtocolError:
        return False
    return isinstance(decoded, wire.model)


def asyncapi_validator() -> Draft7Validator:
    content = ASYNCAPI_SCHEMA.read_bytes()
    assert hashlib.sha256(content).hexdigest() == ASYNCAPI_SCHEMA_SHA256, (
        f"{ASYNCAPI_SCHEMA} is not the vendored copy (see its README)"
    )
    return Draft7Validator(json.loads(content))


# --- drift ------------------------------------------------------------------------------


def test_the_committed_files_are_what_the_models_generate(tmp_path: Path) -> None:
    assert seed_hub(["protocol", "export", "--out", str(tmp_path)]) == 0

    generated = {p.relative_to(tmp_path) for p in tmp_path.rglob("*.json")}
    committed = {
        p.relative_to(PUBLISHED_DIR)
        for p in [PUBLISHED_DIR / ASYNCAPI_FILE, *(PUBLISHED_DIR / "schemas").glob("*.json")]
        if p.exists()
    }
    hint = f"the published protocol has drifted from the models: run `{EXPORT_COMMAND}`"
    assert committed == generated, f"{hint} (and delete what it no longer writes)"
    for path in sorted(generated):
        assert (PUBLISHED_DIR / path).read_bytes() == (tmp_path / path).read_bytes(), (
            f"{path}: {hint}"
        )


def test_the_generated_output_is_deterministic(tmp_path: Path) -> None:
    assert seed_hub(["protocol", "export", "--out", str(tmp_path / "a")]) == 0
    assert seed_hub(["protocol", "export", "--out", str(tmp_path / "b")]) == 0

    for path in (tmp_path / "a").rglob("*.json"):
        assert path.read_bytes() == (tmp_path / "b" / path.relative_to(tmp_path / "a")).read_bytes()


# --- the schemas and the decoders agree ---------------------------------------------------


@pytest.mark.parametrize("wire", CATALOGUE, ids=lambda wire: wire.name)
def test_each_schema_is_draft_2020_12_with_id_title_and_examples(wire: WireMessage) -> None:
    schema = schema_of(wire)

    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(f":{wire.name}:v1")
    assert schema["title"] == f"{wire.model.__name__} v1"
    assert schema["examples"]
    assert "v" in schema["required"]


@pytest.mark.parametrize(
    ("wire", "index"),
    [(wire, i) for wire in CATALOGUE for i in range(len(wire.examples))],
    ids=lambda value: value.name if isinstance(value, WireMessage) else str(value),
)
def test_every_example_validates_against_its_schema_and_decodes(
    wire: WireMessage, index: int
) -> None:
    example = schema_of(wire)["examples"][index]

    validator(wire).validate(example)
    assert decodes(wire, example), f"the hub's decoder refuses {wire.name} example {index}"


def _without(document: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key not in keys}


def _counter_examples() -> list[tuple[str, str, dict[str, Any]]]:
    press = BY_NAME["press_event"].examples[0].payload
    followup = BY_NAME["followup"].examples[0].payload
    status = BY_NAME["device_status"].examples[0].payload
    ack = BY_NAME["ack"].examples[0].payload
    config = BY_NAME["remote_config"].examples[0].payload
    return [
        ("press_event", "no schema version", _without(press, "v")),
        ("press_event", "another schema version", {**press, "v": 2}),
        ("press_event", "an unknown field", {**press, "colour": "green"}),
        ("press_event", "an unknown button", {**press, "button": "meh"}),
        ("press_event", "a sequence of 0", {**press, "seq": 0}),
        ("press_event", "a number as a string", {**press, "seq": "41"}),
        ("press_event", "a time without its offset", {**press, "occurred_at": "2026-03-02T08:15"}),
        ("press_event", "an upper-case device id", {**press, "device_id": "HEL-1"}),
        ("press_event", "a 65-character event id", {**press, "event_id": "e" * 65}),
        ("press_event", "no button", _without(press, "button")),
        ("followup", "no kind: read as a press", _without(followup, "kind")),
        ("followup", "an unknown question", {**followup, "question": "neutral"}),
        ("device_status", "an unknown state", {**status, "state": "sleeping"}),
        ("device_status", "a negative outbox depth", {**status, "outbox_depth": -1}),
        ("ack", "a rejection without a reason", {**ack, "rejected": [{"event_id": "e-1"}]}),
        ("remote_config", "version 0", {**config, "version": 0}),
        ("remote_config", "a heartbeat under 5 s", {**config, "heartbeat_s": 1}),
    ]


@pytest.mark.parametrize(
    ("name", "what", "document"),
    _counter_examples(),
    ids=[f"{name}: {what}" for name, what, _ in _counter_examples()],
)
def test_the_schema_and_the_decoder_both_refuse(
    name: str, what: str, document: dict[str, Any]
) -> None:
    wire = BY_NAME[name]

    assert not validator(wire).is_valid(document), f"the schema takes {what}"
    assert not decodes(wire, document), f"the decoder takes {what}"


# --- the AsyncAPI document ---------------------------------------------------------------


def test_the_asyncapi_document_is_valid_asyncapi_3() -> None:
    document = published(ASYNCAPI_FILE)

    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
        for e in asyncapi_validator().iter_errors(document)
    ]
    assert not errors, "\n".join(errors)


def test_the_asyncapi_schema_refuses_a_broken_document() -> None:
    """The vendored schema is live: an AsyncAPI 2 verb and QoS 3 are caught."""
    document = published(ASYNCAPI_FILE)
    document["operations"]["sendEvents"]["action"] = "publish"
    document["operations"]["receiveAck"]["bindings"]["mqtt"]["qos"] = 3

    assert len(list(asyncapi_validator().iter_errors(document))) >= 2


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_every_reference_in_the_asyncapi_document_resolves() -> None:
    document = published(ASYNCAPI_FILE)

    for ref in _refs(document):
        if ref.startswith("#/"):
            node = document
            for part in ref[2:].split("/"):
                assert part in node, f"{ref} does not resolve"
                node = node[part]
        else:
            assert (PUBLISHED_DIR / ref).is_file(), f"{ref} is not a published file"


def test_channels_are_the_topic_layout_with_qos_1_and_retained_status_and_config() -> None:
    document = published(ASYNCAPI_FILE)
    topics = Topics("acme/airport")

    for kind in TOPIC_KINDS:
        address = document["channels"][kind]["address"]
        filled = address.replace("{prefix}", "acme/airport").replace("{device_id}", "k-1")
        assert filled == topics.device("k-1", kind)
    retained = {
        operation["channel"]["$ref"].rsplit("/", 1)[1]
        for operation in document["operations"].values()
        if operation["bindings"]["mqtt"]["retain"]
    }
    assert retained == {"status", "config"}
    assert {op["bindings"]["mqtt"]["qos"] for op in document["operations"].values()} == {1}
    will = document["servers"]["password"]["bindings"]["mqtt"]["lastWill"]
    assert (will["topic"], will["qos"], will["retain"]) == (
        "{prefix}/devices/{device_id}/status",
        1,
        True,
    )


def test_operations_are_from_the_kiosks_point_of_view() -> None:
    operations = published(ASYNCAPI_FILE)["operations"]

    actions = {op["channel"]["$ref"].rsplit("/", 1)[1]: op["action"] for op in operations.values()}
    assert actions == {"events": "send", "status": "send", "ack": "receive", "config": "receive"}
    for wire in CATALOGUE:
        expected = "send" if wire.sender == "kiosk" else "receive"
        assert actions[wire.topic] == expected, wire.name


# --- docs/protocol.md --------------------------------------------------------------------


def test_every_json_example_in_the_protocol_doc_is_a_published_example() -> None:
    """The doc's examples are copied from the generated ones, which the decoders read."""
    blocks = re.findall(r"```json\n(.*?)```", PROTOCOL_DOC.read_text(), flags=re.DOTALL)
    examples = [example.payload for wire in CATALOGUE for example in wire.examples]

    assert len(blocks) >= len(CATALOGUE)
    for block in blocks:
        assert json.loads(block) in examples, f"not a published example:\n{block}"
    shown = [json.loads(block) for block in blocks]
    for wire in CATALOGUE:
        assert any(e.payload in shown for e in wire.examples), f"no {wire.name} example shown"
