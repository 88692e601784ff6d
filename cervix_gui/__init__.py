"""Cervix Studio's window: the Qt application over the engine's public API."""
