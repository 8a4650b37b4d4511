"""Canonical records of govgate: Avro schemas, their codec, and identifier validators.

This package depends on fastavro only, so a department or a subscriber can vendor it to read
the log without the rest of govgate.
"""
