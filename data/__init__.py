"""Candor's editable content (behaviours, check-in templates, nudges), installed as `candor_data`."""
