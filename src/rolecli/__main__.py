from rolecli.launch import main

main()
