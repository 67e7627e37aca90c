from mymedic.cli import app

app()
