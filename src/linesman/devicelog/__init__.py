"""The device log: one timeline per device of what happened to it (sessions and their
events, RPC outcomes, operations, status changes), readable by every role of the device's
organization. Filled by a subscriber to the platform events (core/events.py)."""
