from hatui.cli import main

raise SystemExit(main())
