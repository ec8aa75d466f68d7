commands: list = []
