"""`python -m checker` is `mixite`."""

from checker.cli import main

main()
