"""Outbound: packing into boxes, shipments and parcels with carrier labels, dock pick-ups and manifests."""
