"""The raw ASGI layer: routing table, request reading, responses, /v1 and /api handlers."""
