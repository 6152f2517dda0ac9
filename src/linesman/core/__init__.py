"""Shared building blocks: pagination, error handling, encryption of stored secrets."""
