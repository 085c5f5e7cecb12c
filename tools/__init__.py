"""Command-line tools: offline render, render diff, benchmarks."""
