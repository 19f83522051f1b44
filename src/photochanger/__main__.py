from photochanger.cli import main

# Guarded: a spawned worker process may import the parent's main module.
if __name__ == "__main__":
    raise SystemExit(main())
