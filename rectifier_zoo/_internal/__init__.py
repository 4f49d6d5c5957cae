"""Plumbing every floor may use: atomic writes, paths, locks, argument checks, error advice, TF's logs.

Lives here: ``atomic`` (write beside, then rename), ``paths`` (the zoo home and the
repository root), ``locking`` (a lock file between processes), ``validation`` (argument
checks whose errors name the fix), ``advice`` (a fix in the caller's words: Python or
the command line), ``tf_logs`` (TensorFlow's start-up lines held to its log level),
``environment`` (library versions for records), ``registration`` (Keras learns the
zoo's custom objects when it is imported).

May import: ``rectifier_zoo.errors`` and the standard library only (``registration``
names ``rectifier_zoo.nn`` as strings, imported when Keras is). Not public: the names
here may change without notice.
"""
