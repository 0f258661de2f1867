"""``python -m evalcore``: see :mod:`evalcore.cli`."""

import sys

from evalcore.cli import main

sys.exit(main())
