"""The cache and idempotency as request hooks (``omniroute.hooks``), over ``omniroute.cache``.

``hooks(gw)`` answers the hooks the worker's chain starts with, as configured: idempotency
(while ``idempotency.windowMs`` > 0), then the cache (while the exact or the semantic cache is
enabled globally or for some combo). See docs/caching.md.
"""

from omniroute.caching.hook import CacheHook
from omniroute.caching.idempotency import IdempotencyHook

__all__ = ["CacheHook", "IdempotencyHook"]
