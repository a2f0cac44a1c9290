"""Functions that change usage data, one module a job: samples (store and ingest),
updates (request and run usage updates), schedule (queue the update that is due)."""
