"""The embedded broker: a real MQTT broker in the hub's process, for one-box installs."""

from hub.ingest.broker import EmbeddedBroker, free_port, port_is_free
from protocol.mqtt import Message
from tests.helpers import connect_client, wait_until


def test_it_carries_messages_and_frees_its_port_for_a_restart() -> None:
    port = free_port()
    broker = EmbeddedBroker(preferred_port=port)
    address = broker.start()
    assert address.port == port
    received: list[Message] = []
    client = connect_client(address, "c", subscriptions=("t/#",), on_message=received.append)
    assert client.publish_and_wait("t/1", b"hello")
    wait_until(lambda: [m.payload for m in received] == [b"hello"], 10, "the message")
    client.stop()
    broker.stop()
    assert port_is_free("127.0.0.1", port)  # TIME_WAIT must not push a restart elsewhere
    again = EmbeddedBroker(preferred_port=port)
    assert again.start().port == port
    again.stop()


def test_a_taken_port_moves_the_broker_to_a_free_one() -> None:
    first = EmbeddedBroker(preferred_port=free_port())
    taken = first.start().port
    second = EmbeddedBroker(preferred_port=taken)
    try:
        assert second.start().port != taken
    finally:
        second.stop()
        first.stop()
