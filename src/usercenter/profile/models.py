"""Tables of the profile module. Personal data is stored as ciphertext (`security.crypto`),
looked up by blind index; every per-user row carries `user_id` (the sharding key)."""

from __future__ import annotations
