"""Running the rulebook on the data: SQL compiler (the fast path), reference interpreter, results."""
