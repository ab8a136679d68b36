"""`python -m assistant` is the `helping-hands` command."""

import sys

from assistant.cli import main

sys.exit(main())
