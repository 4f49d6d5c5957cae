"""The paper reproduced: runs, their results, the report's tables and figures, the targets.

Lives here: ``runs`` (``rectifier-zoo reproduce``: the rows of the paper's tables, a
result JSON per run), ``results`` (reading and grouping result files), ``cells`` (one
table cell's text), ``targets`` (the issue's targets checked), ``report`` (REPRODUCTION.md)
with its parts ``tables``, ``figures``, ``variants`` and ``dae`` (the pre-training
section), ``plots`` (matplotlib figures), ``summary`` (the main job's side-by-side table),
``shipping`` (the best run of each entry exported into the repository's ``exports/``),
``sentiment`` (the side table of the Amazon reviews runs, not the paper's protocol).

May import everything below it: ``api``, ``hub``, ``zoo``, ``training``, ``nn``,
``datasets``, ``paper``, ``_internal``, ``errors``. Never ``tuning`` or ``cli``.
"""
