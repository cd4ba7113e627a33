"""Reports of a check: JSON (the interface other tools read), Markdown, CSV, terminal."""
