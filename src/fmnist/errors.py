"""Errors a user can act on. Stages print them as one line and exit non-zero."""


class FmnistError(Exception):
    """Base class: the message names the file or key at fault and what was expected."""


class ParamsError(FmnistError):
    """params.yaml is missing a key, has an unknown one, or a value of the wrong type or range."""


class DataError(FmnistError):
    """A dataset file is missing, corrupt, or not what Fashion-MNIST should be."""


class ModelFileError(FmnistError):
    """A saved model is missing, corrupt, unsafe to load, or for another architecture."""
