"""``python -m cnnviz``: see ``cnnviz.cli``."""

import os

# First (only the light ``cnnviz/__init__`` ran before), not after the commands' imports (torch
# and the labs: seconds), when the process that started this one may be gone already: a bare
# ``pool --exit-with-parent`` watches it. A spawner that can die early passes its own pid.
PARENT_PID = os.getppid()

import sys  # noqa: E402

from cnnviz.cli import main  # noqa: E402

sys.exit(main(parent_pid=PARENT_PID))
