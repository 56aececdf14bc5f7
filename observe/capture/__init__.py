"""Packet captures: file readers, link layers, TCP reassembly and HTTP/1.x parsing."""
