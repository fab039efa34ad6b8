"""The one scheduler of every heavy job (training runs and lab jobs), and what is kept of it.

``store`` (the SQLite run store, which is also the queue), ``kinds`` (the generic job kind,
its registry and content keys: the kinds themselves are ``cnnviz.jobs``'s), ``worker`` and
``pool`` (the processes that run jobs), ``scheduler`` (what the pages, the CLI and the tests
call), ``weights`` (trained weights kept per run), ``rayexec`` (the pool's jobs on a Ray
cluster) and ``measured`` (what finished runs measured, for Compare). Every job uses one status
vocabulary: ``cnnviz.status.Status``. docs/scheduler.md explains it.
"""
