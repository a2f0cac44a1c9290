"""Reports → Usage: the pages staff read usage on (summary, reseller and organization usage)."""
