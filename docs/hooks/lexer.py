"""Makes sure ```mixite code blocks are highlighted with the rule language's Pygments lexer.

The lexer (`dsl.highlight.MixiteLexer`) is registered by the `pygments.lexers` entry point of
the installed package. An environment installed before that entry point existed does not have
it: the lexer is then registered here for the build, and the build says how to fix the install.
"""

from __future__ import annotations

from typing import Any

import _commun  # noqa: F401  (puts the repository on sys.path)
from _commun import log
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound


def on_config(config: Any) -> Any:
    try:
        get_lexer_by_name("mixite")
        return config
    except ClassNotFound:
        pass
    from pygments.lexers import LEXERS  # the mapping get_lexer_by_name() searches

    from dsl.highlight import MixiteLexer

    LEXERS["MixiteLexer"] = (
        "dsl.highlight",
        MixiteLexer.name,
        tuple(MixiteLexer.aliases),
        tuple(MixiteLexer.filenames),
        tuple(MixiteLexer.mimetypes),
    )
    get_lexer_by_name("mixite")  # fails loudly if the registration did not take
    log.info(
        "Pygments lexer 'mixite' not found through the package's entry point: registered from "
        "dsl.highlight for this build. Reinstall the package (pip install -e .) to register it."
    )
    return config
