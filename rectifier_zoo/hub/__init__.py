"""The zoo's models on disk and on the wire: find, fetch, check, load and export them.

Lives here: ``locate`` (a name or path to a ``.keras`` file: the cache, ``exports/``,
the remote store; loading with ``safe_mode=True``), ``remote`` (the download from
``$RECTIFIER_ZOO_URL``), ``store`` (the version-folder layout TF Serving reads, staging
and the manifest), ``export`` (a version folder: SavedModel, ``.keras``, card),
``model_card`` (the card's fields), ``integrity`` (sha256 checks), ``quarantine`` (copies
that failed their checks, set aside with the reason), ``inputs`` (the input stage a
loaded image entry gets, from its card's dataset). Shipping the best
run of each entry into ``exports/`` is the reproduction's (``reproduction.shipping``).

May import: ``errors``, ``_internal``, ``nn``, ``sparse``, ``datasets``, ``training``,
``zoo`` (with ``spec``, ``entries``) and ``paper``. Never ``api``, ``reproduction``, ``tuning`` or ``cli``.
"""
