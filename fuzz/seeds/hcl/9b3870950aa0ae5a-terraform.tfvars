region = "ap-southeast-1"
