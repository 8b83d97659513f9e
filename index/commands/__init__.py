"""The subcommands of ``article-search``: each module adds one (``add_command``) and runs it."""
