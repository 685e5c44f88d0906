"""NGSI-LD (ETSI GS CIM 009) for the twin-city platform: the read operations over the graph.

Modules, in the order a request meets them: ``routes`` (HTTP binding, content negotiation),
``query`` (the ``q`` language), ``geo`` (georel), ``pattern`` (idPattern), ``lookup`` (the query run
through the ``GraphStore`` port under the role's policy), ``entities`` (normalized / keyValues form),
``typelist`` (type discovery), ``ids`` (URN ↔ node id), ``context`` (the served JSON-LD @context) and
``errors`` (ProblemDetails).
"""
