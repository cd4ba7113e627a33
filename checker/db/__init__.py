"""The SQL schema of the attribution domain and the way to reach a database."""
