"""A seeded synthetic clinic chain for the demo, tests and benchmarks."""
