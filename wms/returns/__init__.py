"""Returns: RMAs from a channel or a supervisor, received at the returns zone, inspected and disposed of."""
