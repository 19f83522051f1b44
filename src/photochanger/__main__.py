from photochanger.cli import main

raise SystemExit(main())
