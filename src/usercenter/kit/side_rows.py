"""Side writes: rows that must commit in the same transaction as a change made elsewhere.

A ledger posting commits in a batch transaction of its own (LEDGER.md); an operation that
moves money hands it the rows that belong with the move — the admin-log entry of a staff
action now, its events next — and the posting inserts them in its transaction, so a move and
its rows commit together or not at all (the one transaction rule, `usercenter.db`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table


@dataclass(frozen=True, slots=True)
class SideRow:
    """One row to insert into `table` with the posting that carries it."""

    table: Table
    values: Mapping[str, Any]
