"""Reaching devices behind NAT: STUN (TR-111 Part 2), UDP connection requests (TR-069
Annex G) and XMPP connection requests (TR-069 Annex K)."""
