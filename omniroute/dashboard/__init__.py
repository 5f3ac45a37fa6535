"""The web dashboard: static files under ``static/`` (no build step) over the management API.

``assets.Assets`` reads them once when the server starts; ``omniroute.server.dashboard``
serves them behind the login. This package imports nothing else of ``omniroute``.
"""

from omniroute.dashboard.assets import STATIC, Asset, Assets

__all__ = ["STATIC", "Asset", "Assets"]
