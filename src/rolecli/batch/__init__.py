"""Batch scoring: many postings, one row each, in a deterministic order, written as scored.

Each concern has one module; import from it (this package re-exports nothing, so that
serve's `batch.items` does not load the rest):
  config.py    BatchConfig: what a run was asked to do, as every part reads it;
  sources.py   PATHs -> sources (the io.walk folder walk, tables) -> Items with unique ids;
  items.py     Item -> row (`Scoring`): the one scoring function of every engine and serve;
  engines/     Items -> rows, in input order: `local` (in-process or a process pool) and
               `dask`, behind one protocol, chosen by name from `engines.ENGINES`;
  writers.py   rows -> jsonl / csv / json (the Rich table is render/tables.py);
  resume.py    the --output file: locking, the run record, --resume;
  run.py       run_batch, tying them together, with Ctrl-C and SIGTERM handling.
"""
