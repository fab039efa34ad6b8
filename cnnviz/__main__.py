"""``python -m cnnviz``: see ``cnnviz.cli``."""

import sys

from cnnviz.cli import main

sys.exit(main())
