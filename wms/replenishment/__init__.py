"""Replenishment: refill pick lanes from reserve (done from the replenish face) and suggest what to buy."""
