"""faceclock: attendance backend with facial login."""

__version__ = "0.1.0"
