vpc_cidr      = "10.15.0.0/16"
instance_type = "t3.medium"
