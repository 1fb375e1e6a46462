region = "example-1"
