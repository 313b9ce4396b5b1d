"""Management middle platform (管理中台): institutions, channels, operators, roles, tokens."""
