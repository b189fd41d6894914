"""The events of the profile module (see `usercenter.kit.events`): masked values only."""

from __future__ import annotations
