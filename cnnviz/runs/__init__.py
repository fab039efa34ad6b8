"""The one scheduler of every heavy job (training runs and lab jobs), and what is kept of it.

``store`` (the SQLite run store, which is also the queue), ``kinds`` (job kinds and content
keys), ``trainjob`` (the "train" kind), ``worker`` and ``pool`` (the processes that run jobs),
``scheduler`` (what the pages, the CLI and the tests call), ``weights`` (trained weights kept
per run) and ``export`` (a run's events as CSV). Every job uses one status vocabulary:
``cnnviz.runs.store.LIVE_STATUSES`` and ``FINAL_STATUSES``. docs/scheduler.md explains it.
"""
