"""Reports over finished runs: a sweep's table, CSV and plots."""
