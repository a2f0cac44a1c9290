"""The REST API under /api/v1/ and the commands scripts use: the panel's capabilities for
billing systems, collectors and nightly jobs, with the same login levels as the pages."""
