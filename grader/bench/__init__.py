"""The benchmark (``grader bench``): figures, not tests, each row against a baseline measured in
the same run, and a deadline burst simulated from measured service times.

May import every layer; nothing imports it but ``grader.cli``.
"""
