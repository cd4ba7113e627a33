"""Accounts, roles, permissions and the access log, shared by the CLI and the web application."""
