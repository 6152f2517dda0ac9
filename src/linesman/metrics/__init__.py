"""Metrics: definitions of what to measure on devices, and the time series of what they said."""
