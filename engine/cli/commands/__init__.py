"""One module per `cervix` sub-command, each with `register(subparsers)`."""
