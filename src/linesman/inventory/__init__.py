"""The device inventory: devices, device types, locations and firmware images."""
