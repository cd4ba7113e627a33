"""`mixite serve`: the web application, on the same database and rules as the CLI."""

from __future__ import annotations

from typing import Annotated

import typer

from checker.cli.console import err, styled
from checker.cli.options import DbOption, RulesOption


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve_command(
        db: DbOption = None,
        host: Annotated[str, typer.Option("--host", help="Adresse d'écoute (127.0.0.1 : ce poste seulement).")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="Port d'écoute.")] = 8000,
        rules: RulesOption = None,
        workers: Annotated[int, typer.Option("--workers", help="Processus de service (PostgreSQL : plusieurs possibles).")] = 1,
    ) -> None:  # fmt: skip
        """Démarre l'application web (comptes : mixite users add ; en production, voir le guide de déploiement)."""
        import os

        import uvicorn

        from checker.db.engine import database_exists, resolve_url
        from checker.errors import DatabaseError
        from checker.web.asgi import ENV_RULES, build

        url = resolve_url(db)
        if not database_exists(url):  # and do not create an empty SQLite file
            raise DatabaseError(f"Base introuvable : {url}.",
                                "Importez d'abord un lot : mixite import DOSSIER --db ...")  # fmt: skip
        os.environ["MIXITE_DB"] = url
        if rules:
            os.environ[ENV_RULES] = os.pathsep.join(str(path) for path in rules)
        build()  # refuse to start (in French) on a database or rules that do not load
        if workers > 1 and url.startswith("sqlite"):
            err.print(styled("[yellow]SQLite : un seul processus de service (--workers 1).[/]"))
            workers = 1
        err.print(f"mixite sert http://{host}:{port}/ — arrêt : Ctrl+C")
        uvicorn.run("checker.web.asgi:app", host=host, port=port, workers=workers,
                    factory=False, proxy_headers=True, log_level="info")  # fmt: skip
