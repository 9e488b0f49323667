from dfix.cli import main

raise SystemExit(main())
