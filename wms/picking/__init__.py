"""Picking on handhelds: take an OP, confirm lines by scan, report exceptions, drop totes at the sas."""
