from rolecli.cli.main import run

run()
