"""Candor's runtime: configuration, store, outbox and the platform adapters."""
