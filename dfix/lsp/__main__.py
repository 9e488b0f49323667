import sys

from dfix.lsp import main

sys.exit(main())
