"""Organizations, users' memberships and roles, API tokens, and who may see and do what."""
