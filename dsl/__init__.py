"""mixite's rule language: grammar, parser, AST, checking and formatting. No database here."""
