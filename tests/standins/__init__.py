"""Stand-ins for the platforms the connectors talk to: small servers on 127.0.0.1, never shipped."""
