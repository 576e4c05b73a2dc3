"""Generated data that conforms to the shapes, for tests and benchmarks at any size."""
