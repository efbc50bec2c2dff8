"""Inbound: suppliers, purchase orders, advance shipping notices, receiving, quality hold and put-away."""
