"""The pull side: sources read department systems, mappings say what their fields mean, the
runtime moves records to the log and owns offsets, retries and the dead-letter stream."""
