"""Adapters: implementations of the ``workflows`` ports that talk to the outside world."""
