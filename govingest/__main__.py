"""`python -m govingest` is the `govingest` command."""
import sys

from govingest.workers.cli import main

sys.exit(main())
