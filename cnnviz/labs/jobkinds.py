"""The labs' job kinds, registered with the scheduler (``cnnviz.runs.kinds``) on import.

Importing this module is what lets a worker process run lab jobs; the pool's worker command
(``python -m cnnviz pool --worker``) and the app's pages import it.
"""

from __future__ import annotations
