__version__ = "0.4.1+own"
