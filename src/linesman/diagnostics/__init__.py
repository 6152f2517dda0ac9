"""CPE diagnostics (ping, traceroute, speed tests, UDP echo, DNS lookup, Wi-Fi scan).

`kinds` maps each diagnostic to its TR-181 and TR-098 objects, `services` starts them as
operations and reads their results; the CWMP exchange itself is the operation engine's.
"""
