"""hatui: a live terminal monitor of an OpenStack control plane's high availability."""

__version__ = "0.1.0"
