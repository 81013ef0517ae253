"""Business counters exported at /metrics beside the HTTP metrics."""

from __future__ import annotations

from prometheus_client import Counter

POLICIES_CREATED = Counter("monassurance_policies_created_total", "Policies created", ["channel"])
CLIENTS_CREATED = Counter("monassurance_clients_created_total", "Clients created", ["channel"])
