"""Batch prediction over news dumps.

- :mod:`~pipeline.batch.dumps`: streaming readers (JSONL, JSONL.gz, CSV, Parquet, .txt folder);
- :mod:`~pipeline.batch.docfilter`: the cheap document filter in front of the tagger;
- :mod:`~pipeline.batch.settings`: checks before anything heavy, what a resume must share;
- :mod:`~pipeline.batch.store`: shards, rejects and the progress manifest (exactly once);
- :mod:`~pipeline.batch.engine`: the local engine; :mod:`~pipeline.batch.ray_engine`: Ray;
- :mod:`~pipeline.batch.progress`: progress bar and run summary.
"""
