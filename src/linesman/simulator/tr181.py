"""The TR-181 (``Device:2``) home gateway that simulated devices of flavour "tr181" expose.

A dual-band Wi-Fi router with a WAN and a LAN IP interface, four Ethernet ports, DHCP and DNS,
NAT port mappings, a hosts table and the usual management and diagnostics objects. Values in
``{braces}`` are per-device and filled from the device identity (see identity.py).
"""

from __future__ import annotations

from linesman.simulator import diagnostics as sim_diagnostics
from linesman.simulator.datamodel import (
    BOOL,
    DATETIME,
    INT,
    UINT,
    ULONG,
    Decl,
    O,
    P,
    Row,
    T,
    Tree,
    compile_tree,
)

ROOT = "Device."

# LAN clients: host name, Wi-Fi station row (if any), medium. Client n has MAC {client<n>}.
_HOSTS = (
    ("laptop-anna", "Device.WiFi.AccessPoint.1.AssociatedDevice.1", "WiFi"),
    ("phone-ben", "Device.WiFi.AccessPoint.2.AssociatedDevice.1", "WiFi"),
    ("smart-tv", "", "Ethernet"),
    ("printer", "", "Ethernet"),
    ("thermostat", "Device.WiFi.AccessPoint.1.AssociatedDevice.2", "WiFi"),
)


def _stats() -> Decl:
    names = ["BytesSent", "BytesReceived", "PacketsSent", "PacketsReceived"]
    errors = ["ErrorsSent", "ErrorsReceived", "DiscardPacketsSent", "DiscardPacketsReceived"]
    return O(
        "Stats",
        *(P(n, type=ULONG, dynamic="traffic", notify=False) for n in names),
        *(P(n, "0", UINT, notify=False) for n in errors),
        *(
            P(n, "0", ULONG, notify=False)
            for n in ("UnicastPacketsSent", "UnicastPacketsReceived", "BroadcastPacketsSent")
        ),
    )


def _ethernet_port(n: int) -> dict[str, str]:
    return {
        "Alias": f"cpe-eth{n}",
        "Name": f"eth{n}",
        "MACAddress": f"{{mac{n + 1}}}",
        "Upstream": "true" if n == 0 else "false",
        "Status": "Up" if n in (0, 1, 2) else "Down",
    }


def _declaration() -> Decl:
    device_info = O(
        "DeviceInfo",
        P("Manufacturer", "{manufacturer}"),
        P("ManufacturerOUI", "{oui}"),
        P("ModelName", "{model}"),
        P("Description", "Linesman simulated home gateway (TR-181)"),
        P("ProductClass", "{product_class}"),
        P("SerialNumber", "{serial}"),
        P("HardwareVersion", "{hardware_version}"),
        P("SoftwareVersion", dynamic="software_version"),
        P("AdditionalHardwareVersion", "board-rev-c"),
        P("AdditionalSoftwareVersion", "bootloader-2.4.1"),
        P("ProvisioningCode", "{provisioning_code}", w=True, max_len=64),
        P("UpTime", type=UINT, dynamic="uptime", notify=False),
        P("FirstUseDate", "2024-01-01T00:00:00Z", DATETIME),
        P("DeviceLog", "boot: ok\ncwmp: started"),
        P("X_LINESMAN_BootCount", type=UINT, dynamic="boot_count", notify=False),
        T(
            "VendorConfigFile",
            [P("Alias"), P("Name"), P("Version"), P("Date", type=DATETIME), P("Description")],
            [
                {
                    "Alias": "cpe-config-1",
                    "Name": "factory.cfg",
                    "Version": "1.0",
                    "Date": "2024-01-01T00:00:00Z",
                    "Description": "Factory configuration",
                }
            ],
        ),
        T(
            "SupportedDataModel",
            [P("URL"), P("URN"), P("Features")],
            [
                {
                    "URL": "https://www.broadband-forum.org/cwmp/tr-181-2-12-0.xml",
                    "URN": "urn:broadband-forum-org:tr-181-2-12-0",
                    "Features": "IPv4,WiFi,NAT",
                }
            ],
        ),
        O("MemoryStatus", P("Total", "524288", UINT), P("Free", "301234", UINT, notify=False)),
        O(
            "ProcessStatus",
            P("CPUUsage", "7", UINT, notify=False),
            P("ProcessNumberOfEntries", "42", UINT),
        ),
        T(
            "Processor",
            [P("Alias"), P("Architecture")],
            [{"Alias": "cpu-1", "Architecture": "arm"}],
        ),
        O(
            "TemperatureStatus",
            T(
                "TemperatureSensor",
                [
                    P("Enable", "true", BOOL, w=True),
                    P("Status", "Enabled"),
                    P("Name", "SoC"),
                    P("Value", "48", INT, notify=False),
                ],
                1,
            ),
        ),
    )
    management_server = O(
        "ManagementServer",
        P("EnableCWMP", "true", BOOL, w=True),
        P("URL", "{acs_url}", w=True, max_len=256),
        P("Username", "{acs_username}", w=True, max_len=256),
        P("Password", "{acs_password}", w=True, secret=True, max_len=256),
        P("ScheduleReboot", "0001-01-01T00:00:00Z", DATETIME, w=True),
        P("DelayReboot", "-1", INT, w=True),
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
        P("HTTPConnectionRequestEnable", "true", BOOL, w=True),
        P("UDPConnectionRequestAddress", dynamic="udp_address"),
        P("STUNEnable", "false", BOOL, w=True),
        P("STUNServerAddress", w=True),
        P("STUNServerPort", "3478", UINT, w=True, max=65535),
        P("STUNUsername", w=True, max_len=256),
        P("STUNPassword", w=True, secret=True, max_len=256),
        P("STUNMinimumKeepAlivePeriod", "0", UINT, w=True),
        P("STUNMaximumKeepAlivePeriod", "-1", INT, w=True),
        P("ConnReqXMPPConnection", w=True, max_len=256),
        P("ConnReqAllowedJabberIDs", w=True, max_len=32768),
        P("ConnReqJabberID", dynamic="xmpp_jid"),
        P("NATDetected", "false", BOOL),
        P("AliasBasedAddressing", "false", BOOL),
        P("InstanceMode", "InstanceNumber", w=True, enum=("InstanceNumber", "InstanceAlias")),
        P("AutoCreateInstances", "false", BOOL, w=True),
        P("SupportedConnReqMethods", "HTTP"),
        P("ManageableDeviceNotificationLimit", "0", UINT, w=True),
        T("ManageableDevice", [P("ManufacturerOUI"), P("SerialNumber"), P("ProductClass")]),
    )
    time = O(
        "Time",
        P("Enable", "true", BOOL, w=True),
        P("Status", "Synchronized"),
        P("NTPServer1", "pool.ntp.org", w=True),
        P("NTPServer2", "time.nist.gov", w=True),
        P("NTPServer3", w=True),
        P("CurrentLocalTime", type=DATETIME, dynamic="localtime", notify=False),
        P("LocalTimeZone", "CET-1CEST,M3.5.0,M10.5.0/3", w=True, max_len=256),
    )
    user_interface = O(
        "UserInterface",
        P("Enable", "true", BOOL, w=True),
        P("PasswordRequired", "true", BOOL, w=True),
        P("PasswordUserSelectable", "true", BOOL, w=True),
        P("ISPName", "Linesman Broadband", w=True),
        P("ISPHelpDesk", "+1 555 0100", w=True),
        P("ISPHomePage", "https://example.net/", w=True),
        O(
            "RemoteAccess",
            P("Enable", "false", BOOL, w=True),
            P("Port", "8443", UINT, w=True, max=65535),
            P("SupportedProtocols", "HTTP,HTTPS"),
            P("Protocol", "HTTPS", w=True, enum=("HTTP", "HTTPS")),
        ),
    )
    ethernet = O(
        "Ethernet",
        T(
            "Interface",
            [
                P("Enable", "true", BOOL, w=True),
                P("Status", "Up"),
                P("Alias", w=True, max_len=64),
                P("Name"),
                P("LastChange", "0", UINT, notify=False),
                P("LowerLayers"),
                P("Upstream", "false", BOOL),
                P("MACAddress"),
                P("MaxBitRate", "1000", INT, w=True),
                P("CurrentBitRate", "1000", UINT),
                P("DuplexMode", "Auto", w=True, enum=("Half", "Full", "Auto")),
                _stats(),
            ],
            [_ethernet_port(n) for n in range(4)],
        ),
        T(
            "Link",
            [
                P("Enable", "true", BOOL, w=True),
                P("Status", "Up"),
                P("Name"),
                P("LowerLayers", w=True),
                P("MACAddress"),
            ],
            [
                {
                    "Name": "wan0",
                    "LowerLayers": "Device.Ethernet.Interface.1",
                    "MACAddress": "{mac1}",
                },
                {
                    "Name": "br0",
                    "LowerLayers": "Device.Bridging.Bridge.1.Port.1",
                    "MACAddress": "{mac0}",
                },
            ],
            w=True,
        ),
    )
    radio_template = [
        P("Enable", "true", BOOL, w=True),
        P("Status", "Up"),
        P("Alias", w=True, max_len=64),
        P("Name"),
        P("LastChange", "0", UINT, notify=False),
        P("Upstream", "false", BOOL),
        P("MaxBitRate", "0", UINT),
        P("SupportedFrequencyBands", "2.4GHz,5GHz"),
        P("OperatingFrequencyBand", w=True, enum=("2.4GHz", "5GHz")),
        P("SupportedStandards"),
        P("OperatingStandards", w=True),
        P("PossibleChannels"),
        P("ChannelsInUse", notify=False),
        P("Channel", "1", UINT, w=True, min=1, max=255),
        P("AutoChannelSupported", "true", BOOL),
        P("AutoChannelEnable", "true", BOOL, w=True),
        P(
            "OperatingChannelBandwidth",
            "Auto",
            w=True,
            enum=("20MHz", "40MHz", "80MHz", "160MHz", "Auto"),
        ),
        P("GuardInterval", "Auto", w=True, enum=("400nsec", "800nsec", "Auto")),
        P("TransmitPowerSupported", "25,50,75,100"),
        P("TransmitPower", "100", INT, w=True, min=-1, max=100),
        P("RegulatoryDomain", "DE ", w=True, max_len=3),
        _stats(),
    ]
    radios = [
        {
            "Alias": "cpe-radio-24",
            "Name": "wl0",
            "MaxBitRate": "600",
            "OperatingFrequencyBand": "2.4GHz",
            "SupportedStandards": "b,g,n,ax",
            "OperatingStandards": "g,n,ax",
            "PossibleChannels": "1-13",
            "ChannelsInUse": "6",
            "Channel": "6",
        },
        {
            "Alias": "cpe-radio-5",
            "Name": "wl1",
            "MaxBitRate": "2400",
            "OperatingFrequencyBand": "5GHz",
            "SupportedStandards": "a,n,ac,ax",
            "OperatingStandards": "n,ac,ax",
            "PossibleChannels": "36,40,44,48,52,56,60,64,100,104,108,112",
            "ChannelsInUse": "36",
            "Channel": "36",
        },
    ]
    ssid_template = [
        P("Enable", "false", BOOL, w=True),
        P("Status", "Down"),
        P("Alias", w=True, max_len=64),
        P("Name"),
        P("LastChange", "0", UINT, notify=False),
        P("LowerLayers", w=True),
        P("BSSID"),
        P("MACAddress"),
        P("SSID", w=True, max_len=32),
        _stats(),
    ]

    def ssid(n: int, radio: int, name: str, enabled: bool) -> dict[str, str]:
        return {
            "Enable": "true" if enabled else "false",
            "Status": "Up" if enabled else "Down",
            "Alias": f"cpe-ssid-{n}",
            "Name": f"wl{radio - 1}.{(n - 1) // 2}",
            "LowerLayers": f"Device.WiFi.Radio.{radio}",
            "BSSID": f"{{mac{4 + n}}}",
            "MACAddress": f"{{mac{4 + n}}}",
            "SSID": name,
        }

    security = O(
        "Security",
        P("ModesSupported", "None,WPA2-Personal,WPA3-Personal,WPA2-WPA3-Personal"),
        P(
            "ModeEnabled",
            "WPA2-Personal",
            w=True,
            enum=("None", "WPA2-Personal", "WPA3-Personal", "WPA2-WPA3-Personal"),
        ),
        P("WEPKey", w=True, secret=True),
        P("PreSharedKey", w=True, secret=True, max_len=64),
        P("KeyPassphrase", "{wifi_key}", w=True, secret=True, max_len=63),
        P("SAEPassphrase", w=True, secret=True),
        P("RekeyingInterval", "3600", UINT, w=True),
    )
    access_point_template = [
        P("Enable", "false", BOOL, w=True),
        P("Status", "Disabled"),
        P("Alias", w=True, max_len=64),
        P("SSIDReference", w=True),
        P("SSIDAdvertisementEnabled", "true", BOOL, w=True),
        P("WMMCapability", "true", BOOL),
        P("WMMEnable", "true", BOOL, w=True),
        P("IsolationEnable", "false", BOOL, w=True),
        P("MaxAssociatedDevices", "32", UINT, w=True),
        security,
        O("WPS", P("Enable", "false", BOOL, w=True), P("ConfigMethodsEnabled", "PushButton")),
        T(
            "AssociatedDevice",
            [
                P("MACAddress"),
                P("AuthenticationState", "true", BOOL),
                P("LastDataDownlinkRate", "0", UINT, notify=False),
                P("LastDataUplinkRate", "0", UINT, notify=False),
                P("SignalStrength", "-50", INT, notify=False),
                P("Active", "true", BOOL),
            ],
        ),
    ]

    def access_point(n: int, enabled: bool, stations: tuple[int, ...] = ()) -> Row:
        return {
            "Enable": "true" if enabled else "false",
            "Status": "Enabled" if enabled else "Disabled",
            "Alias": f"cpe-ap-{n}",
            "SSIDReference": f"Device.WiFi.SSID.{n}",
            "AssociatedDevice": [
                {
                    "MACAddress": f"{{client{c}}}",
                    "LastDataDownlinkRate": str(150000 + 20000 * c),
                    "LastDataUplinkRate": str(90000 + 10000 * c),
                    "SignalStrength": str(-40 - 6 * c),
                }
                for c in stations
            ],
        }

    wifi = O(
        "WiFi",
        T("Radio", radio_template, radios),
        T(
            "SSID",
            ssid_template,
            [
                ssid(1, 1, "{ssid}", True),
                ssid(2, 2, "{ssid}-5G", True),
                ssid(3, 1, "{ssid}-Guest", False),
                ssid(4, 2, "{ssid}-Guest-5G", False),
            ],
            w=True,
            max_entries=8,
        ),
        T(
            "AccessPoint",
            access_point_template,
            [
                access_point(1, True, (1, 5)),
                access_point(2, True, (2,)),
                access_point(3, False),
                access_point(4, False),
            ],
            w=True,
            max_entries=8,
        ),
        sim_diagnostics.tr181_wifi_neighbours(),
    )
    ip_interface_template = [
        P("Enable", "true", BOOL, w=True),
        P("Status", "Up"),
        P("Alias", w=True, max_len=64),
        P("Name"),
        P("LastChange", "0", UINT, notify=False),
        P("LowerLayers", w=True),
        P("Type", "Normal", enum=("Normal", "Loopback", "Tunnel", "Tunneled")),
        P("Reset", "false", BOOL, w=True),
        P("MaxMTUSize", "1500", UINT, w=True, min=64, max=65535),
        P("IPv4Enable", "true", BOOL, w=True),
        P("IPv6Enable", "false", BOOL, w=True),
        P("Loopback", "false", BOOL, w=True),
        T(
            "IPv4Address",
            [
                P("Enable", "true", BOOL, w=True),
                P("Status", "Enabled"),
                P("Alias", w=True, max_len=64),
                P("IPAddress", w=True),
                P("SubnetMask", w=True),
                P("AddressingType", "Static", enum=("DHCP", "IKEv2", "AutoIP", "IPCP", "Static")),
            ],
            w=True,
            max_entries=4,
        ),
        _stats(),
    ]
    ip = O(
        "IP",
        P("IPv4Capable", "true", BOOL),
        P("IPv4Enable", "true", BOOL, w=True),
        P("IPv4Status", "Enabled"),
        P("IPv6Capable", "false", BOOL),
        P("IPv6Enable", "false", BOOL, w=True),
        P("IPv6Status", "Disabled"),
        P("ULAPrefix", w=True),
        T(
            "Interface",
            ip_interface_template,
            [
                {
                    "Alias": "wan",
                    "Name": "erouter0",
                    "LowerLayers": "Device.Ethernet.Link.1",
                    "IPv4Address": [_addr("{wan_ip}", "255.192.0.0", "DHCP", "wan-addr")],
                },
                {
                    "Alias": "lan",
                    "Name": "br-lan",
                    "LowerLayers": "Device.Ethernet.Link.2",
                    "IPv4Address": [_addr("192.168.1.1", "255.255.255.0", "Static", "lan-addr")],
                },
            ],
            w=True,
            max_entries=8,
        ),
        sim_diagnostics.tr181_ip_diagnostics(),
    )
    hosts = O(
        "Hosts",
        T(
            "Host",
            [
                P("Alias"),
                P("PhysAddress"),
                P("IPAddress"),
                P("AddressSource", "DHCP"),
                P("DHCPClient"),
                P("LeaseTimeRemaining", "86400", INT, notify=False),
                P("AssociatedDevice"),
                P("Layer1Interface"),
                P("Layer3Interface", "Device.IP.Interface.2"),
                P("HostName"),
                P("Active", "true", BOOL),
                P("ActiveLastChange", "2024-01-01T00:00:00Z", DATETIME),
            ],
            [
                {
                    "Alias": f"host-{n}",
                    "PhysAddress": f"{{client{n}}}",
                    "IPAddress": f"192.168.1.{100 + n}",
                    "DHCPClient": f"Device.DHCPv4.Server.Pool.1.Client.{n}",
                    "AssociatedDevice": assoc,
                    "Layer1Interface": (
                        "Device.WiFi.SSID.1"
                        if medium == "WiFi"
                        else f"Device.Ethernet.Interface.{n}"
                    ),
                    "HostName": name,
                }
                for n, (name, assoc, medium) in enumerate(_HOSTS, start=1)
            ],
        ),
    )
    dhcpv4 = O(
        "DHCPv4",
        T(
            "Client",
            [
                P("Enable", "true", BOOL, w=True),
                P("Interface", "Device.IP.Interface.1", w=True),
                P("Status", "Enabled"),
                P("DHCPStatus", "Bound"),
                P("Renew", "false", BOOL, w=True),
                P("IPAddress", "{wan_ip}"),
                P("SubnetMask", "255.192.0.0"),
                P("IPRouters", "{wan_gateway}"),
                P("DNSServers", "100.64.0.53,100.64.0.54"),
                P("LeaseTimeRemaining", "43200", INT, notify=False),
                P("DHCPServer", "{wan_gateway}"),
            ],
            1,
        ),
        O(
            "Server",
            P("Enable", "true", BOOL, w=True),
            T(
                "Pool",
                [
                    P("Enable", "true", BOOL, w=True),
                    P("Status", "Enabled"),
                    P("Alias", w=True),
                    P("Order", "1", UINT, w=True, min=1),
                    P("Interface", "Device.IP.Interface.2", w=True),
                    P("MinAddress", "192.168.1.100", w=True),
                    P("MaxAddress", "192.168.1.199", w=True),
                    P("SubnetMask", "255.255.255.0", w=True),
                    P("DNSServers", "192.168.1.1", w=True),
                    P("DomainName", "home.lan", w=True),
                    P("IPRouters", "192.168.1.1", w=True),
                    P("LeaseTime", "86400", INT, w=True, min=-1),
                    T(
                        "StaticAddress",
                        [
                            P("Enable", "false", BOOL, w=True),
                            P("Alias", w=True),
                            P("Chaddr", w=True),
                            P("Yiaddr", w=True),
                        ],
                        w=True,
                        max_entries=32,
                    ),
                ],
                [{"Alias": "lan-pool"}],
                w=True,
                max_entries=4,
            ),
        ),
    )
    dns = O(
        "DNS",
        sim_diagnostics.tr181_dns_diagnostics(),
        O(
            "Client",
            P("Enable", "true", BOOL, w=True),
            P("Status", "Enabled"),
            T(
                "Server",
                [
                    P("Enable", "true", BOOL, w=True),
                    P("Status", "Enabled"),
                    P("DNSServer", w=True),
                    P("Interface", "Device.IP.Interface.1", w=True),
                    P(
                        "Type",
                        "DHCPv4",
                        enum=("DHCPv4", "DHCPv6", "RouterAdvertisement", "IPCP", "Static"),
                    ),
                ],
                [{"DNSServer": "100.64.0.53"}, {"DNSServer": "100.64.0.54"}],
                w=True,
                max_entries=4,
            ),
        ),
    )
    nat = O(
        "NAT",
        T(
            "InterfaceSetting",
            [
                P("Enable", "true", BOOL, w=True),
                P("Status", "Enabled"),
                P("Interface", "Device.IP.Interface.1", w=True),
            ],
            1,
        ),
        T(
            "PortMapping",
            [
                P("Enable", "false", BOOL, w=True),
                P("Status", "Disabled"),
                P("Alias", w=True, max_len=64),
                P("Interface", w=True),
                P("AllInterfaces", "false", BOOL, w=True),
                P("LeaseDuration", "0", UINT, w=True),
                P("RemoteHost", w=True),
                P("ExternalPort", "0", UINT, w=True, max=65535),
                P("ExternalPortEndRange", "0", UINT, w=True, max=65535),
                P("InternalPort", "0", UINT, w=True, max=65535),
                P("Protocol", "TCP", w=True, enum=("TCP", "UDP")),
                P("InternalClient", w=True, max_len=256),
                P("Description", w=True, max_len=256),
            ],
            [
                {
                    "Enable": "true",
                    "Status": "Enabled",
                    "Alias": "printer-ipp",
                    "Interface": "Device.IP.Interface.1",
                    "ExternalPort": "8631",
                    "InternalPort": "631",
                    "InternalClient": "192.168.1.104",
                    "Description": "Printer",
                }
            ],
            w=True,
            max_entries=32,
        ),
    )
    routing = O(
        "Routing",
        T(
            "Router",
            [
                P("Enable", "true", BOOL, w=True),
                P("Status", "Enabled"),
                T(
                    "IPv4Forwarding",
                    [
                        P("Enable", "true", BOOL, w=True),
                        P("Status", "Enabled"),
                        P("StaticRoute", "false", BOOL),
                        P("DestIPAddress", w=True),
                        P("DestSubnetMask", w=True),
                        P("GatewayIPAddress", w=True),
                        P("Interface", w=True),
                        P("ForwardingMetric", "-1", INT, w=True),
                    ],
                    w=True,
                    max_entries=16,
                ),
            ],
            [
                {
                    "IPv4Forwarding": [
                        {
                            "DestIPAddress": "0.0.0.0",
                            "DestSubnetMask": "0.0.0.0",
                            "GatewayIPAddress": "{wan_gateway}",
                            "Interface": "Device.IP.Interface.1",
                            "ForwardingMetric": "0",
                        }
                    ]
                }
            ],
        ),
    )
    firewall = O(
        "Firewall",
        P("Enable", "true", BOOL, w=True),
        P("Config", "Low", w=True, enum=("High", "Low", "Advanced")),
        P("Version", "1.0"),
        P("LastChange", "2024-01-01T00:00:00Z", DATETIME),
    )
    return O(
        "Device",
        P("RootDataModelVersion", "2.12"),
        P("InterfaceStackNumberOfEntries", "0", UINT),
        device_info,
        management_server,
        time,
        user_interface,
        ethernet,
        wifi,
        ip,
        dhcpv4,
        dns,
        nat,
        routing,
        hosts,
        firewall,
        O("LANConfigSecurity", P("ConfigPassword", w=True, secret=True, max_len=64)),
        O(
            "XMPP",
            T(
                "Connection",
                [
                    P("Enable", "false", BOOL, w=True),
                    P("Username", w=True, max_len=256),
                    P("Password", w=True, secret=True, max_len=256),
                    P("Domain", w=True, max_len=64),
                    P("Resource", w=True, max_len=64),
                    P("JabberID", dynamic="xmpp_jid"),
                    P("Status", "Disabled"),
                ],
                1,
            ),
        ),
    )


INFORM_PARAMS = (
    "Device.RootDataModelVersion",
    "Device.DeviceInfo.HardwareVersion",
    "Device.DeviceInfo.SoftwareVersion",
    "Device.DeviceInfo.ProvisioningCode",
    "Device.ManagementServer.ConnectionRequestURL",
    "Device.ManagementServer.ParameterKey",
    "Device.ManagementServer.ConnReqJabberID",
    "Device.IP.Interface.1.IPv4Address.1.IPAddress",
)


def build() -> Tree:
    """Compile the TR-181 tree (call once; the result is shared by every device)."""
    return compile_tree("tr181", _declaration(), INFORM_PARAMS)


def _addr(ip: str, mask: str, kind: str, alias: str) -> Row:
    return {"IPAddress": ip, "SubnetMask": mask, "AddressingType": kind, "Alias": alias}
