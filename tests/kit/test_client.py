"""The caller's address behind proxies (X-Forwarded-For from trusted proxies only)."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from usercenter.kit.client import client_address

PROXIES = [ip_network("127.0.0.1"), ip_network("10.0.0.0/8"), ip_network("fd00::/8")]


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("127.0.0.1", ["203.0.113.9"], [], "127.0.0.1"),  # nobody trusted: the peer
        ("192.0.2.1", ["203.0.113.9"], PROXIES, "192.0.2.1"),  # the peer is no proxy of ours
        ("127.0.0.1", ["203.0.113.9"], PROXIES, "203.0.113.9"),
        ("127.0.0.1", ["198.51.100.1, 203.0.113.9, 10.0.0.2"], PROXIES, "203.0.113.9"),
        ("127.0.0.1", ["198.51.100.1", "203.0.113.9"], PROXIES, "203.0.113.9"),  # two headers
        ("127.0.0.1", ["10.0.0.3, 10.0.0.2"], PROXIES, "10.0.0.3"),  # all ours: the leftmost
        ("127.0.0.1", ["<img src=x>"], PROXIES, "127.0.0.1"),  # junk: the last believed hop
        ("127.0.0.1", ["203.0.113.9, " + "9" * 100], PROXIES, "127.0.0.1"),
        ("127.0.0.1", ["::ffff:203.0.113.9"], PROXIES, "203.0.113.9"),
        ("fd00::1", ["2001:db8::7"], PROXIES, "2001:db8::7"),
        ("fe80::1%eth0", [], PROXIES, "fe80::1"),  # no zone kept
        ("testclient", ["203.0.113.9"], PROXIES, None),  # not an address: none
        (None, ["203.0.113.9"], PROXIES, None),
    ],
)
def test_client_address(
    peer: str | None, forwarded: list[str], trusted: list[object], expected: str | None
) -> None:
    assert client_address(peer, forwarded, trusted) == expected  # type: ignore[arg-type]
