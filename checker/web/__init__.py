"""The web application (`mixite serve`): pages and a JSON API over the CLI's services.

Nothing outside this package imports it, except the `serve` command, lazily.
"""
