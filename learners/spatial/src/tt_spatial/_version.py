__version__ = "0.3.4+own"
