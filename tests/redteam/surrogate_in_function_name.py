# Defines no conv, but a function whose name is a lone surrogate, for the report to list.
globals()["\ud800"] = lambda image, kernel: image
