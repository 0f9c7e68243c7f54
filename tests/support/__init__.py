"""Rigs for the tests and benchmarks, kept out of the installed package.

``postgres`` (a private PostgreSQL server), ``dask_cluster`` (a local Dask scheduler and workers, and
``free_port``), ``gradebook_rows`` (row counts to check a gradebook records each grade once),
``studies`` (the *Going further* study cells of a notebook), ``sandbox_checkpoint`` (save and put back a
sandbox's module state, for scoring many mutants in one sandbox).
Tests import them as ``support.<module>`` (pytest puts tests/ on the path, beside conftest.py);
benchmarks put tests/ on the path the same way.
"""
