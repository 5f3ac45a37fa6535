from omniroute.cli import main

raise SystemExit(main())
