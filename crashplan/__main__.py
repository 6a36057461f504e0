from crashplan.cli import main

raise SystemExit(main())
