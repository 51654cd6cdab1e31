"""``python -m fastfact`` runs the ``fastfact`` command line."""

import sys

from fastfact.cli import main

sys.exit(main())
