"""What a loaded or exported model takes besides its flat features: its dataset's images.

A zoo network reads its dataset's features: for the image datasets, 8-bit pixels over
255, row-major (HWC for colour), in the descriptor's ``input_shape``. So a model
trained on one takes that dataset's images as Keras and tensorflow-datasets give them,
through an ``nn.preprocessing.ImagePreprocessor`` made here from the training facts
a card or a result records (the dataset's name, its data options). ``rz.load`` puts
it in front of the model it returns (``with_images``); ``export`` adds the SavedModel's
``images`` signature from it. The ``.keras`` files stay the plain network: nothing
is re-shipped, one copy of the weights.

Imports datasets, zoo, nn.preprocessing and model_card: never locate or export.
"""

from __future__ import annotations

# The datasets whose features are 8-bit pixels / 255 in their descriptor's input_shape, i.e.
# their natural images. NORB's features are stereo pairs downsampled 96 -> 32 (no image a
# loader hands out) and sentiment's a bag of words: those models take their features only.
PIXEL_DATASETS = ("mnist", "fashion_mnist", "cifar10", "shapeset", "shapeset3x2")
# The data option that moves the pixels' range: Shapeset's ``signed`` (2 p / 255 - 1).
SIGNED_OPTION = "signed"


def facts(model, result=None) -> tuple:
    """``(dataset, dataset_options)`` of ``model``: from ``result`` (a card's facts, a ``TrainResult``
    or its dict), else from the zoo entry its name is; ``(None, {})`` when neither says."""
    from rectifier_zoo import zoo
    from rectifier_zoo.hub import model_card

    record = model_card.result_dict(result)
    dataset = record.get("dataset")
    options = (record.get("hyperparameters") or {}).get("dataset_options") or {}
    if not dataset and model.name in zoo.list_models():
        dataset = zoo.get_spec(model.name).dataset
    return (dataset if isinstance(dataset, str) else None), (options if isinstance(options, dict) else {})


def preprocessor_for(model, result=None):
    """The ``ImagePreprocessor`` of ``model``'s dataset, or None (not an image dataset, or a width that
    is not that dataset's: a model trained on other data)."""
    from rectifier_zoo import datasets
    from rectifier_zoo.nn import preprocessing

    existing = getattr(model, "preprocessor", None)
    if isinstance(existing, preprocessing.ImagePreprocessor):
        return existing
    dataset, options = facts(model, result)
    if dataset not in PIXEL_DATASETS:
        return None
    shape = datasets.descriptor(dataset).input_shape
    value_range = (-1.0, 1.0) if options.get(SIGNED_OPTION) else (0.0, 1.0)
    found = preprocessing.ImagePreprocessor(shape, value_range, name=f"{dataset}_images")
    return found if found.width == int(model.inputs[0].shape[-1]) else None


def with_images(model, result=None):
    """``model`` behind its dataset's ``ImagePreprocessor`` (an ``ImageClassifier``, compiled as it
    was), or ``model`` itself when its data are no images."""
    from rectifier_zoo.nn import preprocessing

    found = preprocessor_for(model, result)
    if found is None or isinstance(model, preprocessing.ImageClassifier):
        return model
    natural = preprocessing.wrap(model, found)
    compiled = getattr(model, "_compile_config", None)  # Keras keeps compile's own arguments there
    if getattr(model, "compiled", False) and compiled is not None:
        # compile's arguments as given, not get_compile_config(): serialising imports TensorFlow
        # on every backend, and rz.load on JAX must not.
        natural.compile(**compiled.config)
    return natural
