"""Webhooks: platform events delivered to organizations' HTTP endpoints, signed and retried."""
