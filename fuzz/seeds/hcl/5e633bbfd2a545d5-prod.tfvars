region         = "us-east-1"
multi_az       = "true"
instance_count = 3
