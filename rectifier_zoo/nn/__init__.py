"""The networks: Keras layers, the L1 regularizer, the sparsity callback, the models and the neurons.

Lives here: ``layers`` (``TiedDenseAutoencoder``, the hidden layers), ``regularizers``
(``ActivityL1``), ``callbacks`` (``SparsityCallback``), ``models`` (the classifier
builder), ``neurons`` (one descriptor per neuron type), ``sparsity`` (zeros, dead units
and means of the hidden codes: ``rz.sparsity``), ``preprocessing`` (``ImagePreprocessor`` and
``ImageClassifier``: images as Keras and tfds give them, in front of a network). Model code uses ``keras.ops`` only and
runs on every Keras backend.

May import: ``rectifier_zoo.errors`` and ``rectifier_zoo._internal``. Nothing here knows
the zoo's entries, datasets or files.
"""
