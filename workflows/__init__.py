"""The domain of the Azersu suspension/restoration service: plain Python, no I/O frameworks."""
