"""Bulk jobs: one operation across many devices (the headless operation endpoints).

`models` (BulkJob, its targets), `spec` (parsing and validating a job request, whatever
its form), `services` (create, cancel, find: what the API, CLI and dashboard call),
`runner` (the fan-out within max_concurrency, outcomes, resume after a crash), `tasks`
(the Huey tasks that carry the runner's work), `api/` and `cli` (the entry points).
"""
