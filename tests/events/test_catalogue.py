"""The catalogue of event types: complete, with data that cannot carry personal data in clear,
and the README's table in step with it."""

from __future__ import annotations

import re
from pathlib import Path

from usercenter.app import EVENT_MODULES
from usercenter.events.asyncapi import catalogue_table
from usercenter.kit.events import event_types

README = Path(__file__).resolve().parents[2] / "README.md"
# Fields that would hold a phone, e-mail, ID-card or bank number, unless they say masked.
PERSONAL = re.compile(r"phone|email|mobile|id_card|idcard|bank|card_no|real_name")


def test_every_module_declaring_events_is_registered() -> None:
    declared = {
        model.event_type
        for module in EVENT_MODULES
        for model in vars(module).values()
        if isinstance(model, type) and "event_type" in model.__dict__
    }
    assert declared == set(event_types())
    assert all(name.startswith("usercenter.") for name in declared)


def test_no_event_has_a_field_for_personal_data_in_clear() -> None:
    for name, model in event_types().items():
        for field in model.model_fields:
            if PERSONAL.search(field):
                assert field.endswith("_masked"), f"{name}.{field}"


def test_the_readme_lists_every_event_type() -> None:
    text = README.read_text(encoding="utf-8")
    listed = text.split("<!-- events:begin (usercenter asyncapi --markdown) -->\n")[1]
    listed = listed.split("<!-- events:end -->")[0]
    assert listed == catalogue_table(), "run `usercenter asyncapi --markdown` into the README"
