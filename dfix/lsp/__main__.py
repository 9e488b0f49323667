from dfix.lsp import main

main()
