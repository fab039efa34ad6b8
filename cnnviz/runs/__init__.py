"""Runs and jobs: what executes in the background and what is kept of it.

``store`` (the SQLite run store, WAL), ``manager`` (training runs on background workers,
persisted event by event), ``jobs`` (lab jobs: ``Job`` and the shared ``JobBoard``) and
``export`` (a run's events as CSV). Runs and jobs share one status vocabulary:
``cnnviz.runs.store.STATUSES``.
"""
