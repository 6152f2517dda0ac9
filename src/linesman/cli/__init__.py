"""The `linesman` command line, one module per command group (`main` holds the entry point
and the server, organization, user and token commands; `setup` what they all need first;
`remote` the client of a remote Linesman's API that `--url/--token` selects)."""
