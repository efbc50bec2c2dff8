"""Waves: a set of orders planned into pick orders (OP) per rack zone, with booked time slots, then released."""
