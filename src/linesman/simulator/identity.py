"""Who a simulated device is: serial number, credentials, addresses, model strings.

Nothing here is stored per device beyond the serial, the index and a reference to a `Profile`
shared by the whole fleet; MAC and IP addresses, SSIDs and credentials are derived on demand,
so the data model's ``{placeholders}`` cost no memory per device.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

# Locally administered unicast prefixes: never a real vendor's, never multicast.
_GATEWAY_MAC_PREFIX = (0x02, 0x4C, 0x53)
_CLIENT_MAC_PREFIX = (0x02, 0x4C, 0x43)


@dataclass(frozen=True, slots=True)
class Profile:
    """Settings shared by every device of one fleet and flavour."""

    flavour: str
    acs_url: str
    interval: int = 300
    manufacturer: str = "Linesman Networks"
    oui: str = "024C53"
    product_class: str = ""
    model: str = ""
    hardware_version: str = "HW-1.2"
    software_version: str = "1.0.0"
    provisioning_code: str = ""
    # str.format templates with {serial} and {index}; connection-request credentials default
    # to the ACS ones because the inventory API only carries one username/password pair.
    username: str = "{serial}"
    password: str = field(default="{serial}-secret", repr=False)
    cr_username: str = "{serial}"
    cr_password: str = field(default="{serial}-secret", repr=False)


def _mac(prefix: tuple[int, int, int], value: int) -> str:
    value &= 0xFFFFFF
    octets = (*prefix, value >> 16, (value >> 8) & 0xFF, value & 0xFF)
    return ":".join(f"{octet:02X}" for octet in octets)


class Identity(Mapping[str, str]):
    """The ``{placeholder}`` values of one device, computed from serial, index and profile."""

    __slots__ = ("serial", "index", "profile")

    def __init__(self, serial: str, index: int, profile: Profile) -> None:
        self.serial = serial
        self.index = index
        self.profile = profile

    def _template(self, template: str) -> str:
        return template.format(serial=self.serial, index=self.index)

    def __getitem__(self, key: str) -> str:
        p = self.profile
        if key == "serial":
            return self.serial
        if key.startswith("mac") and key[3:].isdigit():
            return _mac(_GATEWAY_MAC_PREFIX, self.index * 16 + int(key[3:]))
        if key.startswith("client") and key[6:].isdigit():
            return _mac(_CLIENT_MAC_PREFIX, self.index * 8 + int(key[6:]))
        if key == "wan_ip":
            offset = self.index + 2
            return f"100.{64 + ((offset >> 16) & 63)}.{(offset >> 8) & 255}.{offset & 255}"
        if key == "wan_gateway":
            return "100.64.0.1"
        if key == "ssid":
            return f"Linesman-{self.serial[-4:]}"
        if key == "wifi_key":
            return hashlib.sha256(b"wifi:" + self.serial.encode()).hexdigest()[:16]
        if key == "acs_username":
            return self._template(p.username)
        if key == "acs_password":
            return self._template(p.password)
        if key == "cr_username":
            return self._template(p.cr_username)
        if key == "cr_password":
            return self._template(p.cr_password)
        if key == "interval":
            return str(p.interval)
        if key in _PROFILE_FIELDS:
            return str(getattr(p, key))
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())  # the set of placeholders is open-ended; nothing iterates it

    def __len__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return f"Identity({self.serial!r}, {self.index})"


_PROFILE_FIELDS = frozenset(
    {
        "acs_url",
        "manufacturer",
        "oui",
        "product_class",
        "model",
        "hardware_version",
        "software_version",
        "provisioning_code",
    }
)
