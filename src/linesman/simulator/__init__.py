"""A CPE simulator that speaks CWMP to an ACS, for tests, demos and benchmarks."""
