"""Candor's practices, written once and reached from every platform (no platform SDK here)."""
