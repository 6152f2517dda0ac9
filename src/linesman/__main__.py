"""`python -m linesman` runs the command line."""

from linesman.cli import main

main()
