"""Live: stay in sync with the CRM and tell each person what changed.

- :mod:`voronka.live.store`: the DuckDB file under ``--data`` (webhook events, synced deals,
  sync and watch history).
- :mod:`voronka.live.receivers`: the webhook receivers, a FastAPI router (``router(store, config)``).
- :mod:`voronka.live.sync`: scheduled incremental pulls into the store (:class:`Scheduler`).
- :mod:`voronka.live.watch`: audit, compare with the previous run, deliver what is new.

See docs/live.md.
"""
