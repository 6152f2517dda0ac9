"""The ACS side of CWMP (TR-069): SOAP codec, sessions, RPCs and connection requests."""
