"""The REST surface: routes, dependencies, request bodies, problem documents."""
