"""Browser tests (a package, so its conftest is `e2e.conftest`, not `conftest`)."""
