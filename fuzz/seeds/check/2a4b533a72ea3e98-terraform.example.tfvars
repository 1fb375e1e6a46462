region = "example-1"
