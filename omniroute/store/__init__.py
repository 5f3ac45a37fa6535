"""Embedded state: an LMDB environment shared by every worker process (see ``lmdb_store``)."""

from omniroute.store.lmdb_store import Store
from omniroute.store.records import Alias, ApiKey, Connection, ProviderNode, Session

__all__ = ["Alias", "ApiKey", "Connection", "ProviderNode", "Session", "Store"]
