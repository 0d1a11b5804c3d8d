from talkface.cli import main

raise SystemExit(main())
