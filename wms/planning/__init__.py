"""Pure planning algorithms on plain dataclasses: no database, no Flask."""
