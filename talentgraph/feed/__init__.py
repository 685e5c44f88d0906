"""What the twin-city platform pulls: the change feed, GeoJSON, area statistics and NGSI-LD."""
