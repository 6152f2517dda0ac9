"""The TR-098 (``InternetGatewayDevice:1``) home gateway of simulated devices of flavour "tr098".

An older-style gateway: one WAN IP connection with port mappings, one LAN device with four
Ethernet ports, two WLAN configurations (2.4 and 5 GHz) and a hosts table. Values in
``{braces}`` are per-device and filled from the device identity (see identity.py).
"""

from __future__ import annotations

from linesman.simulator import diagnostics as sim_diagnostics
from linesman.simulator.datamodel import (
    BOOL,
    DATETIME,
    INT,
    STRING,
    UINT,
    Decl,
    O,
    P,
    Row,
    T,
    Tree,
    compile_tree,
)

ROOT = "InternetGatewayDevice."
_IGD = "InternetGatewayDevice"

_HOSTS = ("laptop-anna", "phone-ben", "smart-tv", "printer", "thermostat")


def _traffic(*names: str) -> list[Decl]:
    return [P(n, type=UINT, dynamic="traffic", notify=False) for n in names]


def _ethernet_stats() -> Decl:
    return O(
        "Stats",
        *_traffic("BytesSent", "BytesReceived", "PacketsSent", "PacketsReceived"),
        P("ErrorsSent", "0", UINT, notify=False),
        P("ErrorsReceived", "0", UINT, notify=False),
    )


def _device_info() -> Decl:
    return O(
        "DeviceInfo",
        P("Manufacturer", "{manufacturer}"),
        P("ManufacturerOUI", "{oui}"),
        P("ModelName", "{model}"),
        P("Description", "Linesman simulated home gateway (TR-098)"),
        P("ProductClass", "{product_class}"),
        P("SerialNumber", "{serial}"),
        P("HardwareVersion", "{hardware_version}"),
        P("SoftwareVersion", dynamic="software_version"),
        P("ModemFirmwareVersion", "modem-5.3.2"),
        P("SpecVersion", "1.0"),
        P("ProvisioningCode", "{provisioning_code}", w=True, max_len=64),
        P("UpTime", type=UINT, dynamic="uptime", notify=False),
        P("FirstUseDate", "2024-01-01T00:00:00Z", DATETIME),
        P("DeviceLog", "boot: ok\ncwmp: started"),
        T(
            "VendorConfigFile",
            [P("Name"), P("Version"), P("Date", type=DATETIME), P("Description")],
            [
                {
                    "Name": "factory.cfg",
                    "Version": "1.0",
                    "Date": "2024-01-01T00:00:00Z",
                    "Description": "Factory configuration",
                }
            ],
        ),
    )


def _management_server() -> Decl:
    return O(
        "ManagementServer",
        P("URL", "{acs_url}", w=True, max_len=256),
        P("Username", "{acs_username}", w=True, max_len=256),
        P("Password", "{acs_password}", w=True, secret=True, max_len=256),
        P("PeriodicInformEnable", "true", BOOL, w=True),
        P("PeriodicInformInterval", "{interval}", UINT, w=True, min=1),
        P("PeriodicInformTime", "0001-01-01T00:00:00Z", DATETIME, w=True),
        P("ParameterKey", "", max_len=32),
        P("ConnectionRequestURL", dynamic="connreq_url"),
        P("ConnectionRequestUsername", "{cr_username}", w=True, max_len=256),
        P("ConnectionRequestPassword", "{cr_password}", w=True, secret=True, max_len=256),
        P("UpgradesManaged", "false", BOOL, w=True),
        P("KickURL"),
        P("DownloadProgressURL"),
        P("DefaultActiveNotificationThrottle", "0", UINT, w=True),
        P("CWMPRetryMinimumWaitInterval", "5", UINT, w=True, min=1, max=65535),
        P("CWMPRetryIntervalMultiplier", "2000", UINT, w=True, min=1000, max=65535),
        P("UDPConnectionRequestAddress"),
        P("UDPConnectionRequestAddressNotificationLimit", "0", UINT, w=True),
        P("STUNEnable", "false", BOOL, w=True),
        P("STUNServerAddress", w=True),
        P("STUNServerPort", "3478", UINT, w=True, max=65535),
        P("STUNUsername", w=True),
        P("STUNPassword", w=True, secret=True),
        P("NATDetected", "false", BOOL),
        P("ManageableDeviceNotificationLimit", "0", UINT, w=True),
        T("ManageableDevice", [P("ManufacturerOUI"), P("SerialNumber"), P("ProductClass")]),
    )


def _wlan(n: int, band: str) -> Row:
    five = band == "5GHz"
    return {
        "Enable": "true",
        "Status": "Up",
        "BSSID": f"{{mac{4 + n}}}",
        "MaxBitRate": "Auto",
        "Channel": "36" if five else "6",
        "SSID": "{ssid}-5G" if five else "{ssid}",
        "Standard": "ac" if five else "n",
        "PossibleChannels": "36,40,44,48,52,56,60,64" if five else "1-13",
        "OperatingFrequencyBand": band,
        "Name": f"wl{n - 1}",
        "AssociatedDevice": [
            {
                "AssociatedDeviceMACAddress": f"{{client{c}}}",
                "AssociatedDeviceIPAddress": f"192.168.1.{100 + c}",
                "X_LINESMAN_SignalStrength": str(-40 - 6 * c),
            }
            for c in ((2,) if five else (1, 5))
        ],
    }


def _wlan_template() -> list[Decl]:
    return [
        P("Enable", "false", BOOL, w=True),
        P("Status", "Disabled"),
        P("Name"),
        P("BSSID"),
        P("MaxBitRate", "Auto", w=True),
        P("Channel", "1", UINT, w=True, min=1, max=255),
        P("AutoChannelEnable", "true", BOOL, w=True),
        P("SSID", w=True, max_len=32),
        P("BeaconType", "11i", w=True, enum=("None", "Basic", "WPA", "11i", "WPAand11i")),
        P("MACAddressControlEnabled", "false", BOOL, w=True),
        P("Standard", "n", enum=("a", "b", "g", "g-only", "n", "ac", "ax")),
        P("WEPKeyIndex", "1", UINT, w=True, min=1, max=4),
        P("KeyPassphrase", "{wifi_key}", w=True, secret=True, max_len=63),
        P("WEPEncryptionLevel", "Disabled,40-bit,104-bit"),
        P("BasicEncryptionModes", "None", w=True, enum=("None", "WEPEncryption")),
        P("BasicAuthenticationMode", "None", w=True),
        P("WPAEncryptionModes", "AESEncryption", w=True),
        P("WPAAuthenticationMode", "PSKAuthentication", w=True),
        P("IEEE11iEncryptionModes", "AESEncryption", w=True),
        P("IEEE11iAuthenticationMode", "PSKAuthentication", w=True),
        P("PossibleChannels"),
        P("OperatingFrequencyBand", "2.4GHz", w=True, enum=("2.4GHz", "5GHz")),
        P("BasicDataTransmitRates", "1,2,5.5,11", w=True),
        P("OperationalDataTransmitRates", "1,2,5.5,6,9,11,12,18,24,36,48,54", w=True),
        P("RadioEnabled", "true", BOOL, w=True),
        P("SSIDAdvertisementEnabled", "true", BOOL, w=True),
        P("TransmitPowerSupported", "25,50,75,100"),
        P("TransmitPower", "100", UINT, w=True, max=100),
        P("RegulatoryDomain", "DE ", w=True, max_len=3),
        P("DeviceOperationMode", "InfrastructureAccessPoint"),
        P("WMMSupported", "true", BOOL),
        P("WMMEnable", "true", BOOL, w=True),
        *_traffic(
            "TotalBytesSent", "TotalBytesReceived", "TotalPacketsSent", "TotalPacketsReceived"
        ),
        P("TotalAssociations", type=UINT, dynamic="count:AssociatedDevice", notify=False),
        T(
            "AssociatedDevice",
            [
                P("AssociatedDeviceMACAddress"),
                P("AssociatedDeviceIPAddress"),
                P("AssociatedDeviceAuthenticationState", "true", BOOL),
                P("LastDataTransmitRate", "144", notify=False),
                P("X_LINESMAN_SignalStrength", "-50", INT, notify=False),
            ],
            count=False,
        ),
        T("WEPKey", [P("WEPKey", w=True, secret=True)], 4, count=False),
        T(
            "PreSharedKey",
            [
                P("PreSharedKey", w=True, secret=True, max_len=64),
                P("KeyPassphrase", w=True, secret=True, max_len=63),
                P("AssociatedDeviceMACAddress", w=True),
            ],
            1,
            count=False,
        ),
    ]


def _lan_device() -> Decl:
    return T(
        "LANDevice",
        [
            P("LANUSBInterfaceNumberOfEntries", "0", UINT),
            O(
                "LANHostConfigManagement",
                P("DHCPServerConfigurable", "true", BOOL, w=True),
                P("DHCPServerEnable", "true", BOOL, w=True),
                P("DHCPRelay", "false", BOOL),
                P("MinAddress", "192.168.1.100", w=True),
                P("MaxAddress", "192.168.1.199", w=True),
                P("ReservedAddresses", w=True),
                P("SubnetMask", "255.255.255.0", w=True),
                P("DNSServers", "192.168.1.1", w=True),
                P("DomainName", "home.lan", w=True),
                P("IPRouters", "192.168.1.1", w=True),
                P("DHCPLeaseTime", "86400", INT, w=True, min=-1),
                T(
                    "IPInterface",
                    [
                        P("Enable", "true", BOOL, w=True),
                        P("IPInterfaceIPAddress", "192.168.1.1", w=True),
                        P("IPInterfaceSubnetMask", "255.255.255.0", w=True),
                        P(
                            "IPInterfaceAddressingType",
                            "Static",
                            w=True,
                            enum=("DHCP", "Static", "AutoIP"),
                        ),
                    ],
                    1,
                ),
            ),
            T(
                "LANEthernetInterfaceConfig",
                [
                    P("Enable", "true", BOOL, w=True),
                    P("Status", "Up"),
                    P("Name"),
                    P("MACAddress"),
                    P("MACAddressControlEnabled", "false", BOOL, w=True),
                    P("MaxBitRate", "Auto", w=True, enum=("10", "100", "1000", "Auto")),
                    P("DuplexMode", "Auto", w=True, enum=("Half", "Full", "Auto")),
                    _ethernet_stats(),
                ],
                [
                    {"Name": f"eth{n}", "MACAddress": f"{{mac{n}}}", "Status": status}
                    for n, status in ((1, "Up"), (2, "Up"), (3, "NoLink"), (4, "NoLink"))
                ],
                count="LANEthernetInterfaceNumberOfEntries",
            ),
            T(
                "WLANConfiguration",
                _wlan_template(),
                [_wlan(1, "2.4GHz"), _wlan(2, "5GHz")],
                count="LANWLANConfigurationNumberOfEntries",
            ),
            O(
                "Hosts",
                T(
                    "Host",
                    [
                        P("IPAddress"),
                        P("AddressSource", "DHCP"),
                        P("LeaseTimeRemaining", "86400", INT, notify=False),
                        P("MACAddress"),
                        P("Layer2Interface"),
                        P("VendorClassID"),
                        P("HostName"),
                        P("InterfaceType", "Ethernet"),
                        P("Active", "true", BOOL),
                    ],
                    [
                        {
                            "IPAddress": f"192.168.1.{100 + n}",
                            "MACAddress": f"{{client{n}}}",
                            "HostName": name,
                            "InterfaceType": "802.11" if n in (1, 2, 5) else "Ethernet",
                            "Layer2Interface": (
                                f"{_IGD}.LANDevice.1.WLANConfiguration.{2 if n == 2 else 1}"
                                if n in (1, 2, 5)
                                else f"{_IGD}.LANDevice.1.LANEthernetInterfaceConfig.{n - 2}"
                            ),
                        }
                        for n, name in enumerate(_HOSTS, start=1)
                    ],
                ),
            ),
        ],
        1,
    )


def _wan_ip_connection_template() -> list[Decl]:
    return [
        P("Enable", "true", BOOL, w=True),
        P("ConnectionStatus", "Connected"),
        P("PossibleConnectionTypes", "IP_Routed,IP_Bridged"),
        P("ConnectionType", "IP_Routed", w=True, enum=("Unconfigured", "IP_Routed", "IP_Bridged")),
        P("Name", "wan", w=True, max_len=256),
        P("Uptime", type=UINT, dynamic="uptime", notify=False),
        P("LastConnectionError", "ERROR_NONE"),
        P("RSIPAvailable", "false", BOOL),
        P("NATEnabled", "true", BOOL, w=True),
        P("AddressingType", "DHCP", w=True, enum=("DHCP", "Static")),
        P("ExternalIPAddress", "{wan_ip}", w=True),
        P("SubnetMask", "255.192.0.0", w=True),
        P("DefaultGateway", "{wan_gateway}", w=True),
        P("DNSEnabled", "true", BOOL, w=True),
        P("DNSOverrideAllowed", "false", BOOL, w=True),
        P("DNSServers", "100.64.0.53,100.64.0.54", w=True),
        P("MaxMTUSize", "1500", UINT, w=True, min=1, max=1540),
        P("MACAddress", "{mac0}"),
        P("ConnectionTrigger", "AlwaysOn", w=True, enum=("OnDemand", "AlwaysOn", "Manual")),
        P("RouteProtocolRx", "Off", w=True, enum=("Off", "RIPv1", "RIPv2", "OSPF")),
        T(
            "PortMapping",
            [
                P("PortMappingEnabled", "false", BOOL, w=True),
                P("PortMappingLeaseDuration", "0", UINT, w=True),
                P("RemoteHost", w=True),
                P("ExternalPort", "0", UINT, w=True, max=65535),
                P("ExternalPortEndRange", "0", UINT, w=True, max=65535),
                P("InternalPort", "0", UINT, w=True, max=65535),
                P("PortMappingProtocol", "TCP", w=True, enum=("TCP", "UDP")),
                P("InternalClient", w=True, max_len=256),
                P("PortMappingDescription", w=True, max_len=256),
            ],
            w=True,
            max_entries=32,
        ),
        O(
            "Stats",
            *_traffic(
                "EthernetBytesSent",
                "EthernetBytesReceived",
                "EthernetPacketsSent",
                "EthernetPacketsReceived",
            ),
            P("EthernetErrorsSent", "0", UINT, notify=False),
            P("EthernetErrorsReceived", "0", UINT, notify=False),
        ),
    ]


def _wan_device() -> Decl:
    return T(
        "WANDevice",
        [
            O(
                "WANCommonInterfaceConfig",
                P("EnabledForInternet", "true", BOOL, w=True),
                P("WANAccessType", "Ethernet", enum=("DSL", "Ethernet", "POTS")),
                P("Layer1UpstreamMaxBitRate", "100000000", UINT),
                P("Layer1DownstreamMaxBitRate", "1000000000", UINT),
                P("PhysicalLinkStatus", "Up"),
                P("WANAccessProvider", "Linesman Broadband"),
                *_traffic("TotalBytesSent", "TotalBytesReceived"),
                *_traffic("TotalPacketsSent", "TotalPacketsReceived"),
            ),
            O(
                "WANEthernetInterfaceConfig",
                P("Enable", "true", BOOL, w=True),
                P("Status", "Up"),
                P("MACAddress", "{mac0}"),
                P("MaxBitRate", "Auto", w=True, enum=("10", "100", "1000", "Auto")),
                P("DuplexMode", "Auto", w=True, enum=("Half", "Full", "Auto")),
                _ethernet_stats(),
            ),
            T(
                "WANConnectionDevice",
                [
                    T("WANIPConnection", _wan_ip_connection_template(), w=True, max_entries=4),
                    T(
                        "WANPPPConnection",
                        [
                            P("Enable", "false", BOOL, w=True),
                            P("ConnectionStatus", "Unconfigured"),
                            P("ConnectionType", "IP_Routed", w=True),
                            P("Name", w=True),
                            P("Username", w=True, max_len=64),
                            P("Password", w=True, secret=True, max_len=64),
                            P("ExternalIPAddress"),
                            P("MaxMRUSize", "1492", UINT, w=True, min=1, max=1540),
                        ],
                        w=True,
                        max_entries=4,
                    ),
                ],
                [{"WANIPConnection": [{}]}],
                count="WANConnectionNumberOfEntries",
                w=True,
                max_entries=4,
            ),
        ],
        1,
    )


def _declaration() -> Decl:
    return O(
        _IGD,
        P(
            "DeviceSummary",
            "InternetGatewayDevice:1.4[](Baseline:2, EthernetLAN:1, WiFiLAN:1, Time:2, IPPing:1)",
        ),
        _device_info(),
        _management_server(),
        O(
            "Time",
            P("Enable", "true", BOOL, w=True),
            P("Status", "Synchronized"),
            P("NTPServer1", "pool.ntp.org", w=True),
            P("NTPServer2", "time.nist.gov", w=True),
            P("CurrentLocalTime", type=DATETIME, dynamic="localtime", notify=False),
            P("LocalTimeZone", "+01:00", w=True),
            P("LocalTimeZoneName", "CET-1CEST,M3.5.0,M10.5.0/3", w=True),
            P("DaylightSavingsUsed", "true", BOOL, w=True),
        ),
        O(
            "UserInterface",
            P("PasswordRequired", "true", BOOL, w=True),
            P("PasswordUserSelectable", "true", BOOL, w=True),
            P("UpgradeAvailable", "false", BOOL, w=True),
            P("WarrantyDate", "2027-01-01T00:00:00Z", DATETIME, w=True),
            P("ISPName", "Linesman Broadband", w=True),
            P("ISPHelpDesk", "+1 555 0100", w=True),
            P("ISPHomePage", "https://example.net/", w=True),
        ),
        O(
            "Layer3Forwarding",
            P(
                "DefaultConnectionService",
                f"{_IGD}.WANDevice.1.WANConnectionDevice.1.WANIPConnection.1",
                w=True,
            ),
            T(
                "Forwarding",
                [
                    P("Enable", "true", BOOL, w=True),
                    P("Status", "Enabled"),
                    P("Type", "Default", w=True, enum=("Default", "Network", "Host")),
                    P("DestIPAddress", w=True),
                    P("DestSubnetMask", w=True),
                    P("SourceIPAddress", w=True),
                    P("SourceSubnetMask", w=True),
                    P("GatewayIPAddress", w=True),
                    P("Interface", w=True),
                    P("ForwardingMetric", "0", INT, w=True),
                ],
                [
                    {
                        "GatewayIPAddress": "{wan_gateway}",
                        "Interface": f"{_IGD}.WANDevice.1.WANConnectionDevice.1.WANIPConnection.1",
                    }
                ],
                w=True,
                max_entries=16,
                count="ForwardNumberOfEntries",
            ),
        ),
        O("LANConfigSecurity", P("ConfigPassword", w=True, secret=True, max_len=64)),
        *sim_diagnostics.tr098_objects(),
        _lan_device(),
        _wan_device(),
        P("X_LINESMAN_BootCount", type=UINT, dynamic="boot_count", notify=False),
        P("X_LINESMAN_Note", "", STRING, w=True, max_len=256),
    )


INFORM_PARAMS = (
    f"{_IGD}.DeviceSummary",
    f"{_IGD}.DeviceInfo.SpecVersion",
    f"{_IGD}.DeviceInfo.HardwareVersion",
    f"{_IGD}.DeviceInfo.SoftwareVersion",
    f"{_IGD}.DeviceInfo.ProvisioningCode",
    f"{_IGD}.ManagementServer.ConnectionRequestURL",
    f"{_IGD}.ManagementServer.ParameterKey",
    f"{_IGD}.WANDevice.1.WANConnectionDevice.1.WANIPConnection.1.ExternalIPAddress",
)


def build() -> Tree:
    """Compile the TR-098 tree (call once; the result is shared by every device)."""
    return compile_tree("tr098", _declaration(), INFORM_PARAMS)
