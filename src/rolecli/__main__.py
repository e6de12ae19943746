from rolecli.cli.launch import main

main()
