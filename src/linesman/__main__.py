"""`python -m linesman` runs the command line."""

from linesman.cli.main import main

main()
