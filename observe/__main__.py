"""`python -m observe` runs the restscope command."""

from observe.cli import main

main()
