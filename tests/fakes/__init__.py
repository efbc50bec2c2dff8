"""Test peers that stand in for real devices (printers) in integration and end-to-end tests."""
