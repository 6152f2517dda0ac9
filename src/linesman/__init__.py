"""Linesman: an open-source device management platform with a TR-069/CWMP ACS."""

__version__ = "0.1.0"
