"""Shipping, pure part: SSCC and tracking numbers, box choice and weight check, carriers behind one interface.

Nothing here touches the database or Flask: services pass plain values in and store what comes back.
See docs/shipping.md.
"""
