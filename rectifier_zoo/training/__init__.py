"""Training by the paper's protocol: the recipe, the fit loop, pre-training and checkpoints.

Lives here: ``recipes`` (``Recipe``, ``PretrainConfig``: plain data), ``fit`` (``fit``,
``TrainResult``: SGD with early stopping on validation error), ``pretraining``
(greedy layer-wise denoising auto-encoders), ``checkpoint`` (per-epoch checkpoints,
``state.json`` written last as the commit point), ``compilation`` (the optimizer and
loss a recipe names), ``entry_data`` (the splits a zoo entry trains on).

May import: ``errors``, ``_internal``, ``nn`` and ``datasets``. Not the zoo's registry,
the hub or anything above them: a recipe is passed in, never looked up.
"""
