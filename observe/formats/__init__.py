"""Readers and writers for file formats other than packet captures."""
