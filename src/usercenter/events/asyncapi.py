"""The AsyncAPI 3.0 document of every event type (`/asyncapi.json`): the event side's twin of
`/openapi.json`, made from the registered models, so it cannot drift from what is sent."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from usercenter import __version__
from usercenter.config import Settings
from usercenter.kit.events import CONTENT_TYPE, SPEC_VERSION, Event, event_types

_REF = "#/components/schemas/{model}"


def _envelope_schema(name: str, model: type[Event]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [
            "specversion",
            "id",
            "source",
            "type",
            "subject",
            "time",
            "datacontenttype",
            "subjectseq",
            "data",
        ],
        "properties": {
            "specversion": {"const": SPEC_VERSION},
            "id": {"type": "string", "format": "uuid", "description": "Also the message_id"},
            "source": {"type": "string", "format": "uri-reference"},
            "type": {"const": model.event_type},
            "subject": {
                "type": "string",
                "description": f"{model.subject_kind}/<{model.subject_field}>",
            },
            "time": {"type": "string", "format": "date-time"},
            "datacontenttype": {"const": "application/json"},
            "subjectseq": {
                "type": "integer",
                "minimum": 1,
                "description": "The subject's sequence number: one more than its last event",
            },
            "position": {"type": "integer", "description": "The place in the feed"},
            "data": {"$ref": _REF.format(model=name)},
        },
    }


def asyncapi_document(settings: Settings) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    exchange = {
        "name": settings.events_exchange,
        "type": "topic",
        "durable": True,
        "autoDelete": False,
        "vhost": "/",
    }
    for event_type, model in event_types().items():
        name = model.__name__
        data_schema = model.model_json_schema(ref_template=_REF)
        schemas.update(data_schema.pop("$defs", {}))
        schemas[name] = data_schema
        messages[name] = {
            "name": event_type,
            "title": event_type,
            "summary": model.summary,
            "contentType": CONTENT_TYPE,
            "payload": _envelope_schema(name, model),
            "bindings": {"amqp": {"deliveryMode": 2, "bindingVersion": "0.3.0"}},
        }
        channels[name] = {
            "address": event_type,
            "description": f"Routing key {event_type} on the {settings.events_exchange} exchange",
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {
                "amqp": {"is": "routingKey", "exchange": exchange, "bindingVersion": "0.3.0"}
            },
        }
        operations[f"send{name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{name}"},
            "summary": model.summary,
            "messages": [{"$ref": f"#/channels/{name}/messages/{name}"}],
        }
    document: dict[str, Any] = {
        "asyncapi": "3.0.0",
        "info": {
            "title": "usercenter events",
            "version": __version__,
            "description": "Every change other services react to, as CloudEvents 1.0 JSON on a "
            "durable RabbitMQ topic exchange (persistent, publisher-confirmed, at least once: "
            "dedupe on `id`), routing key = type. A subject's events come in `subjectseq` "
            "order. Without a broker, the same events in the same order from GET /v1/events.",
        },
        "defaultContentType": CONTENT_TYPE,
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }
    if settings.broker_url:
        parts = urlsplit(settings.broker_url)
        document["servers"] = {
            "broker": {
                "host": f"{parts.hostname}:{parts.port or 5672}",
                "protocol": parts.scheme or "amqp",
                "pathname": parts.path or "/",
            }
        }
    return document


def catalogue_table() -> str:
    """The event types as the README's Markdown table (a test keeps the README in step)."""
    lines = ["| type | subject | data | what happened |", "|---|---|---|---|"]
    for event_type, model in event_types().items():
        fields = ", ".join(f"`{name}`" for name in model.model_fields)
        subject = f"`{model.subject_kind}/<{model.subject_field}>`"
        lines.append(f"| `{event_type}` | {subject} | {fields} | {model.summary} |")
    return "\n".join(lines) + "\n"
