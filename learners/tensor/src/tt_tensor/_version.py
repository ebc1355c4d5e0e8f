__version__ = "0.4.3+own"
