"""Cervix Studio's engine: data, images, models, training and inference, without Qt.

Everything the application does can be scripted from here; the window in
``cervix_gui`` only adapts these objects to widgets and signals.
"""

__version__ = "0.1.0"
